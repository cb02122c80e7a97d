/* SPDX-License-Identifier: MIT */
/* Unit tests: decoding KVM exits into VMCS-style exit records, and the exit dispatch table, without KVM. */
#include <stdlib.h>

#include "../../src/internal.h"
#include "../tap.h"

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

    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 1;
    run->io.port = 0x3f8;
    run->io.count = 1;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 30, "IO exit -> VMX reason 30");
    is_u64(ex.qualification, 0x3f80000, "OUT byte to 0x3f8: size-1=0, direction OUT, port in 31:16");
    is_u64(ex.kvm_reason, KVM_EXIT_IO, "raw KVM reason kept");

    run->io.direction = KVM_EXIT_IO_IN;
    run->io.size = 4;
    run->io.port = 0xcfc;
    vmc_exit_decode(run, &ex);
    is_u64(ex.qualification, 0xcfc0000 | 3 | 8, "IN dword from 0xcfc: size-1=3, IN bit 3");
    is_u64(VMC_IOQ_SIZE(ex.qualification), 4, "VMC_IOQ_SIZE decodes 4");
    is_u64(VMC_IOQ_PORT(ex.qualification), 0xcfc, "VMC_IOQ_PORT decodes the port");

    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 2;
    run->io.count = 5;
    vmc_exit_decode(run, &ex);
    is_u64(ex.qualification & (VMC_IOQ_STRING | VMC_IOQ_REP), VMC_IOQ_STRING | VMC_IOQ_REP,
           "count > 1 is string + rep");
    is_u64(ex.count, 5, "count carried");

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

    run->exit_reason = KVM_EXIT_HLT;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 12, "HLT -> 12");
    is_u64(ex.insn_len, 1, "HLT is one byte");

    run->exit_reason = KVM_EXIT_SHUTDOWN;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 2, "SHUTDOWN -> triple fault (2)");

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

    run->exit_reason = KVM_EXIT_HYPERCALL;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 18, "HYPERCALL -> VMCALL (18)");
    is_u64(ex.insn_len, 3, "VMCALL is 3 bytes");

    run->exit_reason = KVM_EXIT_INTR;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, 1, "INTR -> external interrupt (1)");

    run->exit_reason = 1000;
    vmc_exit_decode(run, &ex);
    is_u64(ex.reason, VMC_EXIT_SW_BASE + 63, "out-of-range KVM reason lands in the software range");
    ok(VMC_EXIT_BASIC(ex.reason) < VMC_EXIT_REASON_MAX, "and stays inside the dispatch table");

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

static void test_dispatch(void)
{
    struct vmc_kvm kvm = { .run_size = 8192 };
    struct vmc_vm *vm = calloc(1, sizeof(*vm));
    vm->kvm = &kvm;
    vmc_bus_init(&vm->pio);
    vmc_bus_init(&vm->mmio);
    vm->nvcpus = 1;
    vm->vcpus = calloc(1, sizeof(*vm->vcpus));
    pthread_mutex_init(&vm->lock, NULL);
    struct vmc_vcpu *v = &vm->vcpus[0];
    v->vm = vm;
    v->run = new_run(KVM_EXIT_IO);
    ok(vmc_bus_register(&vm->pio, 0x500, 4, port_fn, NULL) == 0, "register a port device");

    /* rep outsb of 3 bytes: the handler sees each byte in order. */
    v->run->io.direction = KVM_EXIT_IO_OUT;
    v->run->io.size = 1;
    v->run->io.port = 0x501;
    v->run->io.count = 3;
    v->run->io.data_offset = 4096;
    memcpy((uint8_t *)v->run + 4096, "abc", 3);
    vmc_exit_decode(v->run, &v->exit);
    is_int(vmc_exit_dispatch(v, &v->exit), 0, "IO exit dispatched");
    is_int(port_calls, 3, "string I/O split per element");
    ok(memcmp(port_bytes, "abc", 3) == 0, "bytes delivered in order");
    is_u64(port_addr, 0x501, "handler sees the port");
    is_u64(vm->exits[30].count, 1, "exit counted under reason 30");

    v->run->io.direction = KVM_EXIT_IO_IN;
    v->run->io.count = 1;
    v->run->io.size = 2;
    v->run->io.port = 0x600;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_u64(*(uint16_t *)((uint8_t *)v->run + 4096), 0xffff, "unclaimed IN reads all-ones");

    v->run->io.data_offset = 8190; /* 2 bytes fit, 4 do not */
    v->run->io.size = 4;
    vmc_exit_decode(v->run, &v->exit);
    ok(vmc_exit_dispatch(v, &v->exit) < 0, "I/O data outside kvm_run is refused, not accessed");

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_HLT;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.stop, VMC_STOP_DOWN, "HLT with IF=0 and nothing pending takes the vCPU down");
    is_int(v->req.status, 0, "with status 0");

    memset(&v->req, 0, sizeof(v->req));
    v->run->s.regs.regs.rflags = 0x202;
    v->pending.exception = false;
    v->pending.irr[1] = 1ull << 0; /* vector 0x40 already pending: HLT returns at once to take it */
    atomic_store(&v->pending.any, true);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.stop, VMC_STOP_NONE, "HLT with IF=1 and an interrupt pending: the vCPU keeps running");
    is_u64(v->halts, 1, "the halt is counted");
    v->run->s.regs.regs.rflags = 0x2;

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_SHUTDOWN;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.crash, VMC_CRASH_TRIPLE_FAULT, "SHUTDOWN is a triple-fault crash");

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.crash, VMC_CRASH_INTERNAL_ERROR, "INTERNAL_ERROR is a crash");

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
    v->run->fail_entry.hardware_entry_failure_reason = 0x80000022;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.crash, VMC_CRASH_FAIL_ENTRY, "entry failure (MSR loading, 34) is a crash");

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_TPR_ACCESS;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.crash, VMC_CRASH_UNHANDLED_EXIT, "an exit without a handler stops the VM as unhandled");

    memset(&v->req, 0, sizeof(v->req));
    v->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
    v->run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->req.stop, VMC_STOP_EXIT, "system event shutdown ends the VM normally");

    vmc_bus_free(&vm->pio);
    vmc_bus_free(&vm->mmio);
    free(v->run);
    free(vm->vcpus);
    free(vm);
}

static void test_msr(void)
{
    struct vmc_kvm kvm = { .run_size = 8192 };
    struct vmc_vm *vm = calloc(1, sizeof(*vm));
    vm->kvm = &kvm;
    vm->mem.size = 4 << 20;
    vm->mem.host = calloc(1, vm->mem.size);
    vm->nvcpus = 1;
    vm->vcpus = calloc(1, sizeof(*vm->vcpus));
    pthread_mutex_init(&vm->lock, NULL);
    struct vmc_vcpu *v = &vm->vcpus[0];
    v->vm = vm;
    v->run = new_run(KVM_EXIT_X86_WRMSR);
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
        v->run->exit_reason = KVM_EXIT_X86_WRMSR;
        v->run->msr.index = VMC_MSR_HYPERCALL_PAGE;
        v->run->msr.data = cases[i].val;
        v->run->msr.error = 7;
        vmc_exit_decode(v->run, &v->exit);
        vmc_exit_dispatch(v, &v->exit);
        is_int(v->run->msr.error, cases[i].error, "WRMSR 0x%" PRIx64 ": %s", cases[i].val, cases[i].what);
    }
    ok(vm->mem.host[0x200000] == 0x0f && vm->mem.host[0x200020] == 0xb8 && vm->mem.host[0x200026] == 0xeb,
       "the page was filled: ud2 in slot 0, stubs ringing the doorbell");
    v->run->exit_reason = KVM_EXIT_X86_RDMSR;
    v->run->msr.data = 0;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    ok(v->run->msr.error == 0 && v->run->msr.data == VMC_LAYOUT_HYPERCALL_PAGE,
       "RDMSR returns the last accepted value");
    v->run->msr.index = 0x12345;
    vmc_exit_decode(v->run, &v->exit);
    vmc_exit_dispatch(v, &v->exit);
    is_int(v->run->msr.error, 1, "an MSR the VMM does not handle: #GP");
    free(vm->mem.host);
    free(v->run);
    free(vm->vcpus);
    free(vm);
}

int main(void)
{
    test_decode();
    test_dispatch();
    test_msr();
    return tap_done();
}
