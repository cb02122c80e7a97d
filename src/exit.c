/* SPDX-License-Identifier: MIT */
/* VM exits: decode a kvm_run into a VMCS-style exit record (pure), then decide through one table. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/insn.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/x86.h"
#include "exit.h"
#include "linux/linux.h"
#include "vm.h"

static void decode_io(const struct kvm_run *run, struct vmc_exit *ex)
{
    /* KVM does not say whether a count-1 access came from INS/OUTS, nor how the port was encoded. */
    uint32_t size = run->io.size ? run->io.size : 1;
    ex->count = run->io.count;
    if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == VMC_PORT_HYPERCALL) {
        ex->reason = VMC_EXIT_VMCALL;
        return;
    }
    ex->reason = VMC_EXIT_IO;
    ex->qualification = ((uint64_t)(size - 1) & 7) | ((uint64_t)run->io.port << 16);
    if (run->io.direction == KVM_EXIT_IO_IN)
        ex->qualification |= VMC_IOQ_IN;
    if (run->io.count > 1)
        ex->qualification |= VMC_IOQ_STRING | VMC_IOQ_REP;
}

static void decode_fail_entry(const struct kvm_run *run, struct vmc_exit *ex)
{
    /* On VMX the hardware reason is the VMX exit reason with bit 31 set (basic 33, 34 or 41). */
    uint64_t hw = run->fail_entry.hardware_entry_failure_reason;
    uint32_t basic = (uint32_t)hw & 0xffff;
    bool vmx = (hw & VMC_EXIT_FAILED_ENTRY) &&
               (basic == VMC_EXIT_ENTRY_FAIL_GUEST || basic == VMC_EXIT_ENTRY_FAIL_MSR ||
                basic == VMC_EXIT_ENTRY_FAIL_MCE);
    ex->reason = VMC_EXIT_FAILED_ENTRY | (vmx ? basic : VMC_EXIT_ENTRY_FAIL_GUEST);
    ex->hw_reason = hw;
}

static void decode_internal(const struct kvm_run *run, struct vmc_exit *ex)
{
    ex->reason = VMC_EXIT_INTERNAL_ERROR;
    ex->qualification = run->internal.suberror;
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && run->internal.ndata >= 2 &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
        ex->insn_len = run->emulation_failure.insn_size <= 15 ? run->emulation_failure.insn_size : 15;
}

/* KVM exits that carry nothing but their reason: the VMX basic reason (0: not such an exit) and the
 * instruction length where it is fixed. */
static const struct {
    uint32_t reason, insn_len;
} plain_exits[] = {
    [KVM_EXIT_HLT] = { VMC_EXIT_HLT, 1 },
    [KVM_EXIT_SHUTDOWN] = { VMC_EXIT_TRIPLE_FAULT, 0 },
    [KVM_EXIT_HYPERCALL] = { VMC_EXIT_VMCALL, 3 }, /* VMCALL and VMMCALL are both 3 bytes */
    [KVM_EXIT_IRQ_WINDOW_OPEN] = { VMC_EXIT_INTR_WINDOW, 0 },
    [KVM_EXIT_INTR] = { VMC_EXIT_EXTERNAL_INTR, 0 },
};

static void decode_debug(const struct kvm_run *run, struct vmc_exit *ex)
{
    uint32_t vec = run->debug.arch.exception;
    ex->reason = VMC_EXIT_EXCEPTION_NMI;
    ex->intr_info = VMC_INTR_INFO_VALID | (vec & 0xff) |
                    (vec == X86_VEC_BP ? VMC_INTR_TYPE_SW_EXC : VMC_INTR_TYPE_HW_EXC);
    if (vec == X86_VEC_DB)
        ex->qualification = run->debug.arch.dr6;
}

void vmc_exit_decode(const struct kvm_run *run, struct vmc_exit *ex)
{
    memset(ex, 0, sizeof(*ex));
    uint32_t k = run->exit_reason;
    ex->kvm_reason = k;
    ex->count = 1;
    if (k < ARRAY_SIZE(plain_exits) && plain_exits[k].reason) {
        ex->reason = plain_exits[k].reason;
        ex->insn_len = plain_exits[k].insn_len;
        return;
    }
    switch (k) {
    case KVM_EXIT_IO:
        decode_io(run, ex);
        break;
    case KVM_EXIT_MMIO:
        ex->reason = VMC_EXIT_EPT_VIOLATION;
        ex->qualification = run->mmio.is_write ? VMC_EPTQ_WRITE : VMC_EPTQ_READ;
        ex->guest_phys = run->mmio.phys_addr;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        decode_fail_entry(run, ex);
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        decode_internal(run, ex);
        break;
    case KVM_EXIT_DEBUG:
        decode_debug(run, ex);
        break;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        ex->reason = k == KVM_EXIT_X86_RDMSR ? VMC_EXIT_RDMSR : VMC_EXIT_WRMSR;
        ex->qualification = run->msr.index; /* VMX has none; ECX is the natural key */
        ex->insn_len = 2;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        ex->reason = VMC_EXIT_SYSTEM_EVENT;
        ex->hw_reason = run->system_event.type;
        break;
    default:
        ex->reason = VMC_EXIT_SW_BASE + (k < 63 ? k : 63);
        break;
    }
}

/*
 * A report from the VMM's exception stubs (abi.h entry contract): only they ring this port, at CPL0 on the
 * IST stack. The frame is read once through the guest's paging and then validated; a write from anywhere
 * else reads as a garbled report, never as a host fault. The stop presents the exception exit VMX would
 * have taken (SDM vol. 3C 28.2.2): reason 0, the interruption information, for #PF the address.
 */
static void exception_report(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    const struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    const struct kvm_sregs *s = vmc_vcpu_sregs(vcpu);
    struct vmc_fault_frame f;
    bool ok = vmc_x86_fault_frame(&vcpu->vm->mem, s, r, &f) == 0;
    if (vmc_x86_cpl(s) != 0 || !ok || f.vector >= X86_VEC_FIRST_IRQ) {
        vmc_act_crash(act, VMC_CRASH_UNHANDLED_EXIT, 0);
        return;
    }
    uint8_t signal = 0;
    if (vcpu->vm->lx && vmc_lx_fault(vcpu, &f, &signal))
        return; /* a Linux program's handler for the signal runs */
    vmc_act_crash(act, VMC_CRASH_EXCEPTION, 0);
    struct vmc_stop_req *q = &act->stop;
    q->signal = signal;
    q->vector = (uint8_t)f.vector;
    q->has_error_code = x86_exc_has_error_code((unsigned)f.vector);
    q->error_code = (uint32_t)f.error_code;
    q->frame_valid = true;
    q->rip = f.rip, q->cs = (uint16_t)f.cs, q->rflags = f.rflags, q->rsp = f.rsp, q->ss = (uint16_t)f.ss;
    q->exit_valid = true;
    q->exit = *ex;
    q->exit.reason = VMC_EXIT_EXCEPTION_NMI;
    q->exit.intr_info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_HW_EXC |
                        (q->has_error_code ? VMC_INTR_DELIVER_CODE : 0) | q->vector;
    q->exit.intr_error = q->has_error_code ? q->error_code : 0;
    q->exit.qualification = q->vector == X86_VEC_PF ? s->cr2 : 0;
    q->exit.insn_len = 0;
}

static void exit_io(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    struct kvm_run *run = vcpu->run;
    uint32_t size = VMC_IOQ_SIZE(ex->qualification);
    bool in = (ex->qualification & VMC_IOQ_IN) != 0;
    uint16_t port = VMC_IOQ_PORT(ex->qualification);
    uint64_t bytes = (uint64_t)size * ex->count, run_size = (uint64_t)vcpu->vm->kvm->run_size;
    /* The data area is the kernel's, but a bogus offset must not become a host out-of-bounds access. */
    if (run->io.data_offset > run_size || bytes > run_size - run->io.data_offset) {
        vmc_act_error(act, vmc_vm_fail(vcpu->vm, -EIO, "KVM reported I/O data outside kvm_run"));
        return;
    }
    if (port == VMC_PORT_FAULT && !in)
        exception_report(vcpu, ex, act);
    else
        vmc_io_port(vcpu, port, size, in, (uint8_t *)run + run->io.data_offset, ex->count, act);
}

static void exit_vmcall(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    if (ex->kvm_reason != KVM_EXIT_IO) { /* KVM's own hypercall exit: this VMM never asks for it */
        vmc_act_crash(act, VMC_CRASH_UNHANDLED_EXIT, 0);
        return;
    }
    vmc_hc_doorbell(vcpu, ex->count, act);
}

static void exit_mmio(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    struct kvm_run *run = vcpu->run;
    uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
    int rc =
        vmc_io_mmio(vcpu, ex->guest_phys, run->mmio.data, len, (ex->qualification & VMC_EPTQ_WRITE) != 0);
    if (rc < 0)
        vmc_act_error(act, vmc_vm_fail(vcpu->vm, rc, "MMIO handler failed: %s", strerror(-rc)));
}

/*
 * HLT, the userspace counterpart of kvm_emulate_halt: with IF=1 the vCPU waits until an interrupt is
 * pending (timer, IPI, injection), then re-enters to take it. With IF=0 and nothing that ignores IF
 * pending, nothing can wake it: the vCPU goes down (the last one down ends the VM with status 0).
 */
static void exit_hlt(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    (void)ex;
    if (!(vmc_vcpu_regs(vcpu)->rflags & X86_RFLAGS_IF) && !vmc_event_urgent(vcpu))
        vmc_act_down(act);
    else
        act->kind = VMC_ACT_HALT;
}

static void exit_msr(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    (void)act;
    struct kvm_run *run = vcpu->run;
    bool write = VMC_EXIT_BASIC(ex->reason) == VMC_EXIT_WRMSR;
    uint64_t val = run->msr.data;
    int rc = vmc_msr_access(vcpu, run->msr.index, write, &val);
    if (!write && rc == 0)
        run->msr.data = val;
    run->msr.error = rc != 0; /* KVM injects #GP on re-entry */
}

static void exit_system_event(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    (void)vcpu;
    if (ex->hw_reason == KVM_SYSTEM_EVENT_SHUTDOWN || ex->hw_reason == KVM_SYSTEM_EVENT_RESET)
        vmc_act_stop(act, VMC_STOP_EXIT, 0);
    else
        vmc_act_crash(act, VMC_CRASH_UNHANDLED_EXIT, 0);
}

static void exit_crash(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    (void)vcpu;
    switch (VMC_EXIT_BASIC(ex->reason)) {
    case VMC_EXIT_TRIPLE_FAULT:
        vmc_act_crash(act, VMC_CRASH_TRIPLE_FAULT, 0);
        break;
    case VMC_EXIT_INTERNAL_ERROR:
        vmc_act_crash(act, VMC_CRASH_INTERNAL_ERROR, 0);
        break;
    default:
        vmc_act_crash(act, VMC_CRASH_FAIL_ENTRY, 0);
        break;
    }
}

static void exit_nothing(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    (void)vcpu, (void)ex, (void)act; /* the run loop injects before re-entering */
}

typedef void (*exit_fn)(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act);

/* The one exit table, indexed by basic exit reason (exits.def). Empty slots stop the VM as unhandled. */
static const struct {
    exit_fn fn;
    const char *name;
} exit_table[VMC_EXIT_REASON_MAX] = {
#define EXIT(reason, name, handler) [reason] = { handler, name },
#include "exits.def"
#undef EXIT
};

void vmc_exit_count(struct vmc_vcpu *vcpu, uint32_t reason)
{
    uint32_t basic = VMC_EXIT_BASIC(reason);
    if (basic < VMC_EXIT_REASON_MAX)
        STAT_ADD(vcpu->exits[basic].count, 1);
}

void vmc_exit_handle(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act)
{
    uint32_t basic = VMC_EXIT_BASIC(ex->reason);
    bool timed = vcpu->vm->cfg.stats;
    uint64_t t0 = timed ? vmc_now_ns() : 0;
    memset(act, 0, sizeof(*act));
    vmc_exit_count(vcpu, basic);
    exit_fn fn = basic < VMC_EXIT_REASON_MAX ? exit_table[basic].fn : NULL;
    vcpu->act = act;
    if (fn)
        fn(vcpu, ex, act);
    else
        vmc_act_crash(act, VMC_CRASH_UNHANDLED_EXIT, 0);
    vcpu->act = NULL;
    if (timed && basic < VMC_EXIT_REASON_MAX)
        STAT_ADD(vcpu->exits[basic].total_ns, vmc_now_ns() - t0);
}

void vmc_vcpu_exit(struct vmc_vcpu *vcpu, uint32_t status)
{
    if (vcpu->act)
        vmc_act_stop(vcpu->act, VMC_STOP_EXIT, status);
}

size_t vmc_vm_exit_stats(const struct vmc_vm *vm, struct vmc_exit_stat *out, size_t max)
{
    size_t n = 0;
    for (uint32_t r = 0; r < VMC_EXIT_REASON_MAX; r++) {
        struct vmc_exit_stat s = { .reason = r };
        for (uint32_t i = 0; i < vm->nvcpus; i++) {
            s.count += STAT_GET(vm->vcpus[i].exits[r].count);
            s.total_ns += STAT_GET(vm->vcpus[i].exits[r].total_ns);
        }
        if (!s.count)
            continue;
        if (n < max)
            out[n] = s;
        n++;
    }
    return n;
}

const char *vmc_exit_reason_name(uint32_t reason)
{
    uint32_t basic = VMC_EXIT_BASIC(reason);
    return basic < VMC_EXIT_REASON_MAX && exit_table[basic].name ? exit_table[basic].name : "UNKNOWN";
}
