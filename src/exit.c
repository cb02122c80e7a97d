/* SPDX-License-Identifier: MIT */
/* VM exits: decode a kvm_run into a VMCS-style exit record (pure), then dispatch through one table. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* VMX interruption-information fields (SDM 24.8.3; abi-reference 4.5). */
#define INTR_VALID (1u << 31)
#define INTR_TYPE_HW_EXC (3u << 8)
#define INTR_TYPE_SW_EXC (6u << 8)
#define FAIL_ENTRY_BIT (1u << 31)

void vmc_exit_decode(const struct kvm_run *run, struct vmc_exit *ex)
{
    memset(ex, 0, sizeof(*ex));
    ex->kvm_reason = run->exit_reason;
    ex->count = 1;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        /* KVM does not say whether a count-1 access came from INS/OUTS, nor how the port was encoded. */
        uint32_t size = run->io.size ? run->io.size : 1;
        ex->reason = VMC_EXIT_IO;
        ex->qualification = ((uint64_t)(size - 1) & 7) | ((uint64_t)run->io.port << 16);
        if (run->io.direction == KVM_EXIT_IO_IN)
            ex->qualification |= VMC_IOQ_IN;
        if (run->io.count > 1)
            ex->qualification |= VMC_IOQ_STRING | VMC_IOQ_REP;
        ex->count = run->io.count;
        break;
    }
    case KVM_EXIT_MMIO:
        ex->reason = VMC_EXIT_EPT_VIOLATION;
        ex->qualification = run->mmio.is_write ? VMC_EPTQ_WRITE : VMC_EPTQ_READ;
        ex->guest_phys = run->mmio.phys_addr;
        break;
    case KVM_EXIT_HLT:
        ex->reason = VMC_EXIT_HLT;
        ex->insn_len = 1;
        break;
    case KVM_EXIT_SHUTDOWN:
        ex->reason = VMC_EXIT_TRIPLE_FAULT;
        break;
    case KVM_EXIT_FAIL_ENTRY: {
        /* On VMX the hardware reason is the VMX exit reason with bit 31 set (basic 33, 34 or 41). */
        uint64_t hw = run->fail_entry.hardware_entry_failure_reason;
        uint32_t basic = (uint32_t)hw & 0xffff;
        bool vmx = (hw & FAIL_ENTRY_BIT) && (basic == 33 || basic == 34 || basic == 41);
        ex->reason = FAIL_ENTRY_BIT | (vmx ? basic : VMC_EXIT_ENTRY_FAIL_GUEST);
        ex->hw_reason = hw;
        break;
    }
    case KVM_EXIT_INTERNAL_ERROR:
        ex->reason = VMC_EXIT_INTERNAL_ERROR;
        ex->qualification = run->internal.suberror;
        if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && run->internal.ndata >= 2 &&
            (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
            ex->insn_len = run->emulation_failure.insn_size <= 15 ? run->emulation_failure.insn_size : 15;
        break;
    case KVM_EXIT_DEBUG:
        ex->reason = VMC_EXIT_EXCEPTION_NMI;
        ex->intr_info = INTR_VALID | (run->debug.arch.exception & 0xff) |
                        (run->debug.arch.exception == 3 ? INTR_TYPE_SW_EXC : INTR_TYPE_HW_EXC);
        if (run->debug.arch.exception == 1)
            ex->qualification = run->debug.arch.dr6;
        break;
    case KVM_EXIT_HYPERCALL:
        ex->reason = VMC_EXIT_VMCALL;
        ex->insn_len = 3; /* VMCALL and VMMCALL are both 3 bytes */
        break;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        ex->reason = run->exit_reason == KVM_EXIT_X86_RDMSR ? VMC_EXIT_RDMSR : VMC_EXIT_WRMSR;
        ex->qualification = run->msr.index; /* VMX has none; ECX is the natural key */
        ex->insn_len = 2;
        break;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        ex->reason = VMC_EXIT_INTR_WINDOW;
        break;
    case KVM_EXIT_INTR:
        ex->reason = VMC_EXIT_EXTERNAL_INTR;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        ex->reason = VMC_EXIT_SYSTEM_EVENT;
        ex->hw_reason = run->system_event.type;
        break;
    default:
        ex->reason = VMC_EXIT_SW_BASE + (run->exit_reason < 63 ? run->exit_reason : 63);
        break;
    }
}

static void stop_crash(struct vmc_vcpu *vcpu, enum vmc_crash crash)
{
    vcpu->req.stop = VMC_STOP_CRASH;
    vcpu->req.crash = crash;
}

static int exit_io(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    const struct kvm_run *run = vcpu->run;
    uint32_t size = VMC_IOQ_SIZE(ex->qualification);
    bool write = !(ex->qualification & VMC_IOQ_IN);
    uint64_t bytes = (uint64_t)size * ex->count;
    int run_size = vcpu->vm->kvm->run_size;
    /* The data area is the kernel's, but a bogus offset must not become a host out-of-bounds access. */
    if (run->io.data_offset > (uint64_t)run_size || bytes > (uint64_t)run_size - run->io.data_offset)
        return vmc_vm_fail(vcpu->vm, -EIO, "KVM reported I/O data outside kvm_run");
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    int rc = vmc_io_filter(vcpu, VMC_IOQ_PORT(ex->qualification), size, write, data, ex->count);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    for (uint32_t i = 0; i < ex->count; i++) {
        rc = vmc_bus_access(&vcpu->vm->pio, vcpu, VMC_IOQ_PORT(ex->qualification), data + i * size, size,
                            write);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int exit_mmio(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    struct kvm_run *run = vcpu->run;
    uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
    return vmc_bus_access(&vcpu->vm->mmio, vcpu, ex->guest_phys, run->mmio.data, len,
                          (ex->qualification & VMC_EPTQ_WRITE) != 0);
}

#define RFLAGS_IF (1ull << 9)

/*
 * HLT, the userspace counterpart of kvm_emulate_halt: with IF=1 the vCPU thread sleeps until an
 * interrupt is pending (timer, IPI, injection), then re-enters to take it. With IF=0 and nothing
 * pending nothing can wake it: the vCPU goes down (the last one down ends the VM with status 0).
 */
static int exit_hlt(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)ex;
    struct vmc_vm *vm = vcpu->vm;
    if (!(vcpu->run->s.regs.regs.rflags & RFLAGS_IF)) {
        pthread_mutex_lock(&vm->lock);
        bool pending = vcpu->pending.exception || vcpu->pending.nmi;
        pthread_mutex_unlock(&vm->lock);
        if (!pending)
            vcpu->req.stop = VMC_STOP_DOWN;
        return 0;
    }
    vmc_vcpu_block(vcpu, 0, true);
    return 0;
}

static int exit_triple_fault(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)ex;
    stop_crash(vcpu, VMC_CRASH_TRIPLE_FAULT);
    return 0;
}

static int exit_fail_entry(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)ex;
    stop_crash(vcpu, VMC_CRASH_FAIL_ENTRY);
    return 0;
}

static int exit_internal_error(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)ex;
    stop_crash(vcpu, VMC_CRASH_INTERNAL_ERROR);
    return 0;
}

static int exit_system_event(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    if (ex->hw_reason == KVM_SYSTEM_EVENT_SHUTDOWN || ex->hw_reason == KVM_SYSTEM_EVENT_RESET) {
        vcpu->req.stop = VMC_STOP_EXIT;
        vcpu->req.status = 0;
    } else {
        stop_crash(vcpu, VMC_CRASH_UNHANDLED_EXIT);
    }
    return 0;
}

static int exit_nothing(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)vcpu, (void)ex;
    return 0;
}

static int exit_unhandled(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    (void)ex;
    stop_crash(vcpu, VMC_CRASH_UNHANDLED_EXIT);
    return 0;
}

/*
 * The hypercall-page MSR (Xen's discovery, abi-reference 2.2): a page-aligned address of a guest RAM page
 * the guest owns gets the page written; anything else raises #GP. Reads return the last accepted value.
 */
static int hcpage_wrmsr(struct vmc_vcpu *vcpu, uint64_t val)
{
    struct vmc_vm *vm = vcpu->vm;
    bool vmm_owned = val < VMC_LAYOUT_LOAD_MIN && val != VMC_LAYOUT_HYPERCALL_PAGE;
    if ((val & 4095) || vmm_owned || !vmc_mem_ptr(&vm->mem, val, 4096))
        return -1;
    if (vmc_hypercall_write_page(vm, val) != 0)
        return -1;
    vm->hcpage_msr = val;
    return 0;
}

static int hcpage_rdmsr(struct vmc_vcpu *vcpu, uint64_t *val)
{
    *val = vcpu->vm->hcpage_msr;
    return 0;
}

/* MSRs the VMM handles itself; any other MSR access that reaches userspace raises #GP. */
static const struct msr_handler {
    uint32_t index;
    int (*rd)(struct vmc_vcpu *vcpu, uint64_t *val);
    int (*wr)(struct vmc_vcpu *vcpu, uint64_t val);
} msr_table[] = {
    { VMC_MSR_HYPERCALL_PAGE, hcpage_rdmsr, hcpage_wrmsr },
};

const uint32_t vmc_builtin_msrs[] = { VMC_MSR_HYPERCALL_PAGE };
const size_t vmc_nbuiltin_msrs = ARRAY_SIZE(vmc_builtin_msrs);

/* The MSR policy first (deny, or an embedder's handler), then the VMM's own handlers; else #GP. */
static int exit_msr(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    struct kvm_run *run = vcpu->run;
    bool write = VMC_EXIT_BASIC(ex->reason) == VMC_EXIT_WRMSR;
    uint64_t val = run->msr.data;
    int rc = -1;
    const struct vmc_msr_rule *rule = vmc_msr_rule(vcpu->vm, run->msr.index);
    if (rule) {
        rc = rule->deny ? -1 : rule->fn(vcpu, rule->opaque, run->msr.index, write, &val);
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
            if (msr_table[i].index == run->msr.index)
                rc = write ? msr_table[i].wr(vcpu, val) : msr_table[i].rd(vcpu, &val);
    }
    if (!write && rc == 0)
        run->msr.data = val;
    run->msr.error = rc != 0; /* KVM injects #GP on re-entry */
    return 0;
}

typedef int (*exit_fn)(struct vmc_vcpu *vcpu, struct vmc_exit *ex);

/* The one exit table, indexed by basic exit reason. Empty slots stop the VM as unhandled. */
static const exit_fn exit_table[VMC_EXIT_REASON_MAX] = {
    [VMC_EXIT_IO] = exit_io,
    [VMC_EXIT_EPT_VIOLATION] = exit_mmio,
    [VMC_EXIT_HLT] = exit_hlt,
    [VMC_EXIT_TRIPLE_FAULT] = exit_triple_fault,
    [VMC_EXIT_ENTRY_FAIL_GUEST] = exit_fail_entry,
    [34] = exit_fail_entry,                /* entry failure: MSR loading */
    [41] = exit_fail_entry,                /* entry failure: machine check */
    [VMC_EXIT_INTR_WINDOW] = exit_nothing, /* the run loop injects before re-entering */
    [VMC_EXIT_RDMSR] = exit_msr,
    [VMC_EXIT_WRMSR] = exit_msr,
    [VMC_EXIT_INTERNAL_ERROR] = exit_internal_error,
    [VMC_EXIT_SYSTEM_EVENT] = exit_system_event,
};

int vmc_exit_dispatch(struct vmc_vcpu *vcpu, struct vmc_exit *ex)
{
    uint32_t basic = VMC_EXIT_BASIC(ex->reason);
    exit_fn fn = basic < VMC_EXIT_REASON_MAX ? exit_table[basic] : NULL;
    if (basic < VMC_EXIT_REASON_MAX)
        __atomic_fetch_add(&vcpu->vm->exits[basic].count, 1, __ATOMIC_RELAXED);
    return (fn ? fn : exit_unhandled)(vcpu, ex);
}

static const char *const sw_names[64] = {
    [0] = "KVM_UNKNOWN",
    [KVM_EXIT_EXCEPTION] = "KVM_EXCEPTION",
    [KVM_EXIT_DEBUG] = "KVM_DEBUG",
    [KVM_EXIT_NMI] = "KVM_NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
    [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
};

const char *vmc_exit_reason_name(uint32_t reason)
{
    static const char *const vmx_names[] = {
        [0] = "EXCEPTION_NMI",
        [1] = "EXTERNAL_INTERRUPT",
        [2] = "TRIPLE_FAULT",
        [7] = "INTERRUPT_WINDOW",
        [10] = "CPUID",
        [12] = "HLT",
        [18] = "VMCALL",
        [30] = "IO_INSTRUCTION",
        [31] = "RDMSR",
        [32] = "WRMSR",
        [33] = "ENTRY_FAIL_GUEST",
        [34] = "ENTRY_FAIL_MSR",
        [41] = "ENTRY_FAIL_MCE",
        [48] = "EPT_VIOLATION",
    };
    uint32_t basic = VMC_EXIT_BASIC(reason);
    if (basic < ARRAY_SIZE(vmx_names) && vmx_names[basic])
        return vmx_names[basic];
    if (basic >= VMC_EXIT_SW_BASE && basic < VMC_EXIT_REASON_MAX && sw_names[basic - VMC_EXIT_SW_BASE])
        return sw_names[basic - VMC_EXIT_SW_BASE];
    return "UNKNOWN";
}
