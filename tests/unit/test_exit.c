/* SPDX-License-Identifier: MIT */
/* Unit tests: decoding KVM exits into VMCS-style exit records, and the exit dispatch table, without KVM. */
#include <stdlib.h>

#include "../tap.h"
#include "fakevm.h"

static struct kvm_run *new_run(uint32_t reason)
{
    struct kvm_run *run = calloc(1, 8192);
    run->exit_reason = reason;
    return run;
}

static void test_decode(void)
{
    struct vmc_exit ex;
    struct kvm_run *run = new_run(KVM_EXIT_IO);

    /* Port I/O: the VMX I/O qualification (SDM table 28-5): size-1, IN bit 3, string and rep, port 31:16. */
    static const struct {
        uint8_t dir, size;
        uint16_t port;
        uint32_t count;
        uint64_t qual;
        const char *what;
    } io[] = {
        { KVM_EXIT_IO_OUT, 1, 0x3f8, 1, 0x3f80000, "OUT byte to 0x3f8: size-1=0, direction OUT" },
        { KVM_EXIT_IO_IN, 4, 0xcfc, 1, 0xcfc0000 | 3 | 8, "IN dword from 0xcfc: size-1=3, IN bit 3" },
        { KVM_EXIT_IO_OUT, 2, 0xcfc, 5, 0xcfc0000 | 1 | VMC_IOQ_STRING | VMC_IOQ_REP,
          "count > 1 is string + rep" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(io); i++) {
        run->io.direction = io[i].dir, run->io.size = io[i].size, run->io.port = io[i].port;
        run->io.count = io[i].count;
        vmc_exit_decode(run, &ex);
        ok(ex.reason == 30 && ex.kvm_reason == KVM_EXIT_IO && ex.qualification == io[i].qual &&
               ex.count == io[i].count,
           "IO exit -> reason 30, %s", io[i].what);
    }
    is_u64(VMC_IOQ_SIZE(0xcfc0000 | 3 | 8), 4, "VMC_IOQ_SIZE decodes 4");
    is_u64(VMC_IOQ_PORT(0xcfc0000 | 3 | 8), 0xcfc, "VMC_IOQ_PORT decodes the port");

    run->io.port = VMC_PORT_HYPERCALL;
    run->io.size = 1;
    run->io.count = 1;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, VMC_EXIT_VMCALL, "OUT to the doorbell port is the VMCALL exit (18)");
    is_u64(ex.qualification, 0, "with no I/O qualification");
    run->io.direction = KVM_EXIT_IO_IN;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, VMC_EXIT_IO, "an IN from the doorbell port stays an I/O exit");
    run->io.direction = KVM_EXIT_IO_OUT;

    run->exit_reason = KVM_EXIT_MMIO;
    run->mmio.phys_addr = 0xfee00300;
    run->mmio.is_write = 1;
    run->mmio.len = 4;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 48, "MMIO -> EPT violation (48)");
    is_u64(ex.guest_phys, 0xfee00300, "MMIO guest-physical address");
    is_u64(ex.qualification, VMC_EPTQ_WRITE, "MMIO write -> qualification bit 1");
    run->mmio.is_write = 0;
    vmc_exit_decode(run, &ex);
    is_u64(ex.qualification, VMC_EPTQ_READ, "MMIO read -> qualification bit 0");

    /* Exits that carry nothing but their reason (and a fixed instruction length). */
    static const struct {
        uint32_t kvm, reason, insn_len;
        const char *what;
    } plain[] = {
        { KVM_EXIT_HLT, 12, 1, "HLT -> 12, one byte" },
        { KVM_EXIT_SHUTDOWN, 2, 0, "SHUTDOWN -> triple fault (2)" },
        { KVM_EXIT_HYPERCALL, 18, 3, "HYPERCALL -> VMCALL (18), 3 bytes" },
        { KVM_EXIT_INTR, 1, 0, "INTR -> external interrupt (1)" },
        { KVM_EXIT_IRQ_WINDOW_OPEN, 7, 0, "IRQ_WINDOW_OPEN -> interrupt window (7)" },
        { 1000, VMC_EXIT_SW_BASE + 63, 0, "an out-of-range KVM reason lands in the software range" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        run->exit_reason = plain[i].kvm;
        vmc_exit_decode(run, &ex);
        ok(ex.reason == plain[i].reason && ex.insn_len == plain[i].insn_len && ex.kvm_reason == plain[i].kvm,
           "%s", plain[i].what);
    }
    ok(VMC_EXIT_BASIC(ex.reason) < VMC_EXIT_REASON_MAX, "and stays inside the dispatch table");

    run->exit_reason = KVM_EXIT_FAIL_ENTRY;
    run->fail_entry.hardware_entry_failure_reason = 0x80000021; /* VMX: invalid guest state */
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 0x80000021, "VMX entry failure keeps basic reason 33 with bit 31");
    run->fail_entry.hardware_entry_failure_reason = 0xffffffffffffffffull; /* SVM: VMEXIT_INVALID */
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 0x80000021, "non-VMX entry failure maps to 33 | bit 31");
    is_u64(ex.hw_reason, 0xffffffffffffffffull, "hardware reason kept");

    run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
    run->emulation_failure.ndata = 3;
    run->emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
    run->emulation_failure.insn_size = 3;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, VMC_EXIT_INTERNAL_ERROR, "internal error -> software reason 0x111");
    is_u64(ex.qualification, 1, "suberror as qualification");
    is_u64(ex.insn_len, 3, "emulation failure instruction length");
    run->emulation_failure.insn_size = 200;
    vmc_exit_decode(run, &ex);
    is_u64(ex.insn_len, 15, "instruction length clamped to 15");

    run->exit_reason = KVM_EXIT_DEBUG;
    run->debug.arch.exception = 3;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 0, "DEBUG -> exception or NMI (0)");
    is_u64(ex.intr_info, 0x80000603, "#BP: vector 3, type 6 (software exception), valid");
    run->debug.arch.exception = 1;
    run->debug.arch.dr6 = 0xffff0ff1;
    vmc_exit_decode(run, &ex);
    is_u64(ex.intr_info, 0x80000301, "#DB: vector 1, type 3 (hardware exception), valid");
    is_u64(ex.qualification, 0xffff0ff1, "#DB qualification is DR6");

    run->exit_reason = KVM_EXIT_X86_WRMSR;
    run->msr.index = 0x40000000;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 32, "WRMSR -> 32");
    is_u64(ex.qualification, 0x40000000, "MSR index as qualification");

    is_str(vmc_exit_reason_name(30), "IO_INSTRUCTION", "name of 30");
    is_str(vmc_exit_reason_name(0x80000021), "ENTRY_FAIL_GUEST", "name ignores bit 31");
    is_str(vmc_exit_reason_name(VMC_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR", "name of a software reason");
    is_str(vmc_exit_reason_name(77), "UNKNOWN", "unknown reason");
    free(run);
}

static int port_calls;
static uint64_t port_addr;
static uint8_t port_bytes[16];

static int port_fn(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)vcpu;
    (void)opaque;
    port_addr = addr;
    if (write)
        memcpy(port_bytes + port_calls, data, len);
    else
        memset(data, 0x5a, len);
    port_calls++;
    return 0;
}

static struct kvm_run *handle(struct vmc_vm *vm, uint32_t reason)
{
    struct vmc_vcpu *v = &vm->vcpus[0];
    v->run->exit_reason = reason;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_handle(v, &v->exit, &fake_act);
    return v->run;
}

static void test_dispatch(void)
{
    struct vmc_vm *vm = fake_vm(4 << 20, VMC_HCABI_KVM);
    struct vmc_vcpu *v = &vm->vcpus[0];
    ok(vmc_vm_register_io(vm, 0x500, 4, port_fn, NULL, 0) == 0, "register a port device");

    /* rep outsb of 3 bytes: the handler sees each byte in order. */
    memcpy((uint8_t *)v->run + 4096, "abc", 3);
    fake_io(vm, 0x501, 1, true, 3);
    is_int(fake_act.kind, VMC_ACT_CONTINUE, "IO exit handled: continue");
    is_int(port_calls, 3, "string I/O split per element");
    ok(memcmp(port_bytes, "abc", 3) == 0, "bytes delivered in order");
    is_u64(port_addr, 0x501, "handler sees the port");
    is_u64(v->exits[30].count, 1, "exit counted under reason 30, on its vCPU");

    fake_io(vm, 0x600, 2, false, 1);
    is_u64(*(uint16_t *)((uint8_t *)v->run + 4096), 0xffff, "unclaimed IN reads all-ones");

    v->run->io.data_offset = 3 * 4096 - 2; /* 2 bytes fit in kvm_run, 4 do not */
    v->run->io.size = 4;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_handle(v, &v->exit, &fake_act);
    ok(fake_act.kind == VMC_ACT_ERROR && fake_act.rc == -EIO,
       "I/O data outside kvm_run is refused, not accessed");

    v->run->s.regs.regs.rflags = 0x2;
    handle(vm, KVM_EXIT_HLT);
    is_int(fake_act.kind, VMC_ACT_DOWN, "HLT with IF=0 and nothing pending takes the vCPU down");
    vmc_event_queue(v, &(struct vmc_event){ .type = VMC_EVENT_NMI });
    handle(vm, KVM_EXIT_HLT);
    is_int(fake_act.kind, VMC_ACT_HALT, "HLT with IF=0 and an NMI pending: halt (the NMI wakes it)");
    vmc_event_reset(v);
    v->run->s.regs.regs.rflags = 0x202;
    handle(vm, KVM_EXIT_HLT);
    is_int(fake_act.kind, VMC_ACT_HALT,
           "HLT with IF=1: the run loop halts the vCPU (no blocking in handlers)");
    vmc_event_raise_irq(v, 0x40);
    is_int(vmc_sched_block(v, 0, true, vmc_event_pending), VMC_WAKE_EVENT,
           "a halt with an interrupt pending ends at once");
    is_u64(v->sched.halts, 1, "the halt is counted");
    is_int(vmc_sched_block(v, vmc_now_ns() + 1000000, false, vmc_event_urgent), VMC_WAKE_UNTIL,
           "a block with nothing that wakes it ends at its deadline");

    handle(vm, KVM_EXIT_SHUTDOWN);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.crash == VMC_CRASH_TRIPLE_FAULT,
       "SHUTDOWN is a triple-fault crash");
    handle(vm, KVM_EXIT_INTERNAL_ERROR);
    is_int(fake_act.stop.crash, VMC_CRASH_INTERNAL_ERROR, "INTERNAL_ERROR is a crash");
    v->run->fail_entry.hardware_entry_failure_reason = 0x80000022;
    handle(vm, KVM_EXIT_FAIL_ENTRY);
    is_int(fake_act.stop.crash, VMC_CRASH_FAIL_ENTRY, "entry failure (MSR loading, 34) is a crash");
    handle(vm, KVM_EXIT_TPR_ACCESS);
    is_int(fake_act.stop.crash, VMC_CRASH_UNHANDLED_EXIT,
           "an exit without a handler stops the VM as unhandled");
    v->run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    handle(vm, KVM_EXIT_SYSTEM_EVENT);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.stop == VMC_STOP_EXIT && fake_act.stop.status == 0,
       "system event shutdown ends the VM normally");
    vmc_vm_destroy(vm);
}

/* Exception reports from the VMM's stubs: the frame is read through the guest's paging (64-bit) or at
 * SS:ESP (32-bit), and the stop presents the VMX exception exit. */
static void test_exception_report(void)
{
    struct vmc_vm *vm = fake_vm(4 << 20, VMC_HCABI_KVM);
    struct vmc_vcpu *v = &vm->vcpus[0];
    struct kvm_sregs *s = &v->run->s.regs.sregs;
    fake_mode(vm, 64, 0, VMC_LAYOUT_PML4); /* the VMM's own identity tables */
    s->cr2 = 0xdead000;
    struct vmc_fault_frame f = { 14, 2, 0x100010, 8, 0x202, 0x80000, 0x10 };
    vmc_vm_write(vm, 0x13f00, &f, sizeof(f));
    v->run->s.regs.regs.rsp = 0x13f00;
    fake_io(vm, VMC_PORT_FAULT, 1, true, 1);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.crash == VMC_CRASH_EXCEPTION,
       "a #PF report stops the VM");
    ok(fake_act.stop.vector == 14 && fake_act.stop.has_error_code && fake_act.stop.error_code == 2,
       "vector 14, error code 2");
    ok(fake_act.stop.frame_valid && fake_act.stop.rip == 0x100010 && fake_act.stop.rsp == 0x80000,
       "the faulting context from the frame");
    ok(fake_act.stop.exit_valid && fake_act.stop.exit.reason == 0 &&
           fake_act.stop.exit.intr_info == 0x80000b0e && fake_act.stop.exit.qualification == 0xdead000,
       "exit record: reason 0, interruption info 0x80000b0e, CR2 as qualification");

    fake_mode(vm, 32, 0, 0);
    uint32_t w[5] = { 6, 0, 0x100020, 0x40, 0x2 };
    vmc_vm_write(vm, 0x14000, w, sizeof(w));
    v->run->s.regs.regs.rsp = 0x14000;
    fake_io(vm, VMC_PORT_FAULT, 1, true, 1);
    ok(fake_act.stop.vector == 6 && fake_act.stop.rip == 0x100020 && fake_act.stop.rsp == 0x14014 &&
           fake_act.stop.exit.intr_info == 0x80000306,
       "a 32-bit frame (no ESP/SS pushed): #UD at 0x100020");
    s->cr0 |= 1ull << 31; /* 32-bit paging on, tables at 0x20000 */
    s->cr3 = 0x20000;
    uint32_t pd[2] = { 0x21000 | 1 | 2 }, pte = 0x14000 | 1 | 2;
    vmc_vm_write(vm, 0x20000, pd, sizeof(pd));
    vmc_vm_write(vm, 0x21000 + 0x80 * 4, &pte, 4); /* linear 0x80000 -> 0x14000 */
    v->run->s.regs.regs.rsp = 0x80000;
    fake_io(vm, VMC_PORT_FAULT, 1, true, 1);
    ok(fake_act.stop.crash == VMC_CRASH_EXCEPTION && fake_act.stop.rip == 0x100020,
       "a 32-bit frame read through 32-bit paging");

    fake_mode(vm, 64, 3, VMC_LAYOUT_PML4);
    fake_io(vm, VMC_PORT_FAULT, 1, true, 1);
    is_int(fake_act.stop.crash, VMC_CRASH_UNHANDLED_EXIT, "a report from CPL3 is not believed");
    fake_mode(vm, 64, 0, VMC_LAYOUT_PML4);
    v->run->s.regs.regs.rsp = 0x7ffff000;
    fake_io(vm, VMC_PORT_FAULT, 1, true, 1);
    is_int(fake_act.stop.crash, VMC_CRASH_UNHANDLED_EXIT, "nor one whose frame cannot be read");
    vmc_vm_destroy(vm);
}

static void test_msr(void)
{
    struct vmc_vm *vm = fake_vm(4 << 20, VMC_HCABI_KVM);
    struct vmc_vcpu *v = &vm->vcpus[0];
    struct {
        uint64_t val;
        int error;
        const char *what;
    } cases[] = {
        { 0x200000, 0, "page-aligned RAM page accepted" },
        { 0x200008, 1, "misaligned address: #GP" },
        { 4 << 20, 1, "address past RAM: #GP" },
        { (4 << 20) - 4096, 0, "last RAM page accepted" },
        { 0x1000, 1, "VMM-owned page: #GP" },
        { VMC_LAYOUT_HYPERCALL_PAGE, 0, "the pre-installed page itself accepted" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        v->run->msr.index = VMC_MSR_HYPERCALL_PAGE;
        v->run->msr.data = cases[i].val;
        v->run->msr.error = 7;
        handle(vm, KVM_EXIT_X86_WRMSR);
        is_int(v->run->msr.error, cases[i].error, "WRMSR 0x%" PRIx64 ": %s", cases[i].val, cases[i].what);
    }
    uint8_t page[0x30];
    vmc_vm_read(vm, 0x200000, page, sizeof(page));
    ok(page[0] == 0x0f && page[1] == 0x0b && page[0x20] == 0xb8 && page[0x26] == 0xeb,
       "the page was filled: ud2 in slot 0, stubs ringing the doorbell");
    v->run->msr.data = 0;
    handle(vm, KVM_EXIT_X86_RDMSR);
    ok(v->run->msr.error == 0 && v->run->msr.data == VMC_LAYOUT_HYPERCALL_PAGE,
       "RDMSR returns the last accepted value");
    v->run->msr.index = 0x12345;
    handle(vm, KVM_EXIT_X86_RDMSR);
    is_int(v->run->msr.error, 1, "an MSR the VMM does not handle: #GP");
    vmc_vm_destroy(vm);
}

int main(void)
{
    test_decode();
    test_dispatch();
    test_exception_report();
    test_msr();
    return tap_done();
}
