/* SPDX-License-Identifier: MIT */
/* The VMCS-shaped control block: a vCPU's KVM state and the VMM's controls read, written and printed as the
 * six VMCS areas (SDM vol. 3C 25; docs/abi-reference.md, "VMX"). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86_64/regs.h"
#include "arch/x86_64/x86.h"
#include "cpuid.h"
#include "vm.h"

/* The control words say what this VMM does (vmcall.h documents each bit). */
static void control_words(struct vmc_vcpu *vcpu, struct vmc_vmcs *v)
{
    struct vmc_vm *vm = vcpu->vm;
    v->exec.pin_based = VMC_PIN_EXT_INTR_EXITING | VMC_PIN_NMI_EXITING | VMC_PIN_VIRTUAL_NMIS;
    v->exec.secondary = VMC_PROC2_ENABLE_EPT;
    v->exec.primary = VMC_PROC_HLT_EXITING | VMC_PROC_ACTIVATE_SECONDARY |
                      (vm->io.policy_set ? VMC_PROC_USE_IO_BITMAPS : VMC_PROC_UNCOND_IO_EXITING) |
                      (vm->msrs.filtered ? VMC_PROC_USE_MSR_BITMAPS : 0) |
                      (vcpu->run->request_interrupt_window ? VMC_PROC_INTR_WINDOW_EXITING : 0);
    v->exit_ctl.controls = VMC_EXITCTL_HOST_ADDR_SPACE_SIZE | VMC_EXITCTL_SAVE_EFER | VMC_EXITCTL_LOAD_EFER;
    v->entry.controls = VMC_ENTRYCTL_LOAD_EFER | (v->entry.ia32e_mode ? VMC_ENTRYCTL_IA32E_MODE_GUEST : 0);
}

static void exec_controls(struct vmc_vcpu *vcpu, struct vmc_vmcs *v)
{
    struct vmc_vm *vm = vcpu->vm;
    vmc_io_intercepted(vm, &v->exec.io_intercepted_a, &v->exec.io_intercepted_b);
    v->exec.io_default = vm->cfg.io_default;
    v->exec.msr_rules = vm->msrs.nrules;
    v->exec.msr_filter = vm->msrs.exits;
    v->exec.exception_bitmap =
        0xffffffffu; /* the default IDT reports vectors 0-31 until the guest loads its own */
    v->exec.cpuid_leaves = vmc_cpuid_table(vm)->nent;
    v->exec.hlt_blocks = true;
    v->exec.user_hypercalls = vm->hc.allow_user;
    v->exec.timeout_ns = vm->cfg.timeout_ns;
    vmc_timer_get(vcpu, &v->exec.timer_deadline_ns, &v->exec.timer_vector);
    v->exit_ctl.host_64 = true;
    v->exit_ctl.save_efer = true;
    v->exit_ctl.stop_on_triple = true;
    v->exit_ctl.report_exceptions = true;
    v->exit_ctl.time_handlers = vm->cfg.stats;
}

int vmc_vcpu_get_vmcs(struct vmc_vcpu *vcpu, struct vmc_vmcs *v)
{
    struct vmc_vm *vm = vcpu->vm;
    if (!vmc_sched_lock_vcpu(vcpu))
        return vmc_vm_fail(vm, -EBUSY, "vCPU %u is running", vcpu->id);
    memset(v, 0, sizeof(*v));
    v->vcpu = vcpu->id;
    vmc_x86_vmcs_guest_out(v, vmc_vcpu_regs(vcpu), vmc_vcpu_sregs(vcpu), &vcpu->run->s.regs.events);
    struct kvm_debugregs dr;
    if (vcpu->fd >= 0 && ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &dr) == 0)
        v->guest.dr7 = dr.dr7;
    bool shutdown = vcpu->result.stop == VMC_STOP_CRASH && vcpu->result.crash == VMC_CRASH_TRIPLE_FAULT;
    v->guest.activity = vmc_sched_activity(vcpu, shutdown);
    v->host.thread_id = vcpu->sched.tid;
    v->host.last_cpu = vcpu->sched.runs ? vcpu->sched.last_cpu : -1;
    v->host.runs = vcpu->sched.runs;
    v->host.halts = STAT_GET(vcpu->sched.halts);
    v->host.halt_ns = STAT_GET(vcpu->sched.halt_ns);
    v->host.events_injected = STAT_GET(vcpu->ev.injected);
    vmc_event_entry_info(vcpu, &v->entry.interruption_info, &v->entry.exception_error_code,
                         v->entry.pending_irr);
    v->entry.ia32e_mode = (vmc_vcpu_sregs(vcpu)->efer & X86_EFER_LMA) != 0;
    exec_controls(vcpu, v);
    control_words(vcpu, v);
    v->exit_info = vcpu->exit;
    vmc_sched_unlock(vm);
    return 0;
}

/* A VMX entry interruption-information field as a vmc_event; -EINVAL for what cannot be injected. */
static int entry_event(const struct vmc_vmcs *in, struct vmc_event *ev)
{
    uint32_t info = in->entry.interruption_info, type = info & VMC_INTR_TYPE_MASK;
    if (info & ~(VMC_INTR_INFO_VALID | VMC_INTR_TYPE_MASK | VMC_INTR_DELIVER_CODE | 0xffu))
        return -EINVAL;
    *ev = (struct vmc_event){ .vector = (uint8_t)VMC_INTR_VECTOR(info) };
    if (type == VMC_INTR_TYPE_HW_EXC) {
        ev->type = VMC_EVENT_EXCEPTION;
        ev->has_error_code = (info & VMC_INTR_DELIVER_CODE) != 0;
        ev->error_code = in->entry.exception_error_code;
        ev->cr2 = ev->vector == X86_VEC_PF ? in->guest.cr2 : 0;
    } else if (type == VMC_INTR_TYPE_NMI) {
        ev->type = VMC_EVENT_NMI;
    } else if (type == VMC_INTR_TYPE_EXT_INTR) {
        ev->type = VMC_EVENT_INTERRUPT;
    } else {
        return -EINVAL;
    }
    if (type != VMC_INTR_TYPE_HW_EXC && (info & VMC_INTR_DELIVER_CODE))
        return -EINVAL;
    return vmc_event_check(ev);
}

static int set_dr7(struct vmc_vcpu *vcpu, uint64_t dr7)
{
    struct kvm_debugregs dr;
    if (vcpu->fd < 0 || ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &dr) != 0 || dr.dr7 == dr7)
        return 0;
    dr.dr7 = dr7;
    if (ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &dr) < 0)
        return vmc_vm_fail(vcpu->vm, -errno, "KVM_SET_DEBUGREGS: %s", strerror(errno));
    return 0;
}

int vmc_vcpu_set_vmcs(struct vmc_vcpu *vcpu, const struct vmc_vmcs *in)
{
    struct vmc_vm *vm = vcpu->vm;
    struct vmc_event ev;
    bool inject = (in->entry.interruption_info & VMC_INTR_INFO_VALID) != 0;
    if (inject && entry_event(in, &ev) != 0)
        return vmc_vm_fail(vm, -EINVAL, "invalid entry interruption information 0x%x",
                           in->entry.interruption_info);
    if (in->guest.interruptibility & ~0xbu)
        return vmc_vm_fail(vm, -EINVAL, "invalid interruptibility 0x%x", in->guest.interruptibility);
    if (!vmc_sched_lock_vcpu(vcpu))
        return vmc_vm_fail(vm, -EBUSY, "vCPU %u is running", vcpu->id);
    int rc = set_dr7(vcpu, in->guest.dr7);
    if (rc == 0) {
        vmc_x86_vmcs_guest_in(in, vmc_vcpu_regs(vcpu), vmc_vcpu_sregs(vcpu), &vcpu->run->s.regs.events);
        vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS);
        vmc_event_clear_urgent(vcpu);
    }
    vmc_sched_unlock(vm);
    /* Queued outside the sched lock: queuing kicks the vCPU, which takes it. */
    return rc == 0 && inject ? vmc_event_queue(vcpu, &ev) : rc;
}

static void seg_print(FILE *f, const char *name, const struct vmc_vmcs_segment *s)
{
    fprintf(f, "guest.%s.selector 0x%04" PRIx16 "\n", name, s->selector);
    fprintf(f, "guest.%s.base 0x%016" PRIx64 "\n", name, s->base);
    fprintf(f, "guest.%s.limit 0x%08" PRIx32 "\n", name, s->limit);
    fprintf(f, "guest.%s.access_rights 0x%05" PRIx32 "\n", name, s->access_rights);
}

static void guest_print(const struct vmc_vmcs *v, FILE *f)
{
    static const char *const activity[] = { "active", "hlt", "shutdown", "wait-for-sipi" };
    const typeof(v->guest) *g = &v->guest;
#define PRINT_REG(n) fprintf(f, "guest." #n " 0x%016" PRIx64 "\n", (uint64_t)g->n);
    VMC_X86_GPRS(PRINT_REG)
    VMC_X86_CRS(PRINT_REG)
    PRINT_REG(dr7)
    seg_print(f, "es", &g->es), seg_print(f, "cs", &g->cs), seg_print(f, "ss", &g->ss);
    seg_print(f, "ds", &g->ds), seg_print(f, "fs", &g->fs), seg_print(f, "gs", &g->gs);
    seg_print(f, "ldtr", &g->ldtr), seg_print(f, "tr", &g->tr);
    fprintf(f, "guest.gdtr.base 0x%016" PRIx64 "\nguest.gdtr.limit 0x%04" PRIx32 "\n", g->gdtr_base,
            g->gdtr_limit);
    fprintf(f, "guest.idtr.base 0x%016" PRIx64 "\nguest.idtr.limit 0x%04" PRIx32 "\n", g->idtr_base,
            g->idtr_limit);
    fprintf(f, "guest.interruptibility 0x%08" PRIx32 "\n", g->interruptibility);
    fprintf(f, "guest.activity_state %" PRIu32 " %s\n", g->activity,
            g->activity < 4 ? activity[g->activity] : "?");
}

/* A control word as "0x%08x" and the names of its set bits (SDM vol. 3C 25.6.1, 25.6.2, 25.7.1, 25.8.1).
 */
struct bit_name {
    uint32_t bit;
    const char *name;
};
static void word_print(FILE *f, const char *field, uint32_t word, const struct bit_name *names, size_t n)
{
    fprintf(f, "%s 0x%08" PRIx32, field, word);
    for (size_t i = 0; i < n; i++)
        if (word & names[i].bit)
            fprintf(f, " %s", names[i].name);
    fputc('\n', f);
}

static void controls_print(const struct vmc_vmcs *v, FILE *f)
{
    static const struct bit_name pin[] = { { VMC_PIN_EXT_INTR_EXITING, "external-interrupt-exiting" },
                                           { VMC_PIN_NMI_EXITING, "nmi-exiting" },
                                           { VMC_PIN_VIRTUAL_NMIS, "virtual-nmis" } };
    static const struct bit_name proc[] = { { VMC_PROC_INTR_WINDOW_EXITING, "interrupt-window-exiting" },
                                            { VMC_PROC_HLT_EXITING, "hlt-exiting" },
                                            { VMC_PROC_UNCOND_IO_EXITING, "unconditional-io-exiting" },
                                            { VMC_PROC_USE_IO_BITMAPS, "use-io-bitmaps" },
                                            { VMC_PROC_USE_MSR_BITMAPS, "use-msr-bitmaps" },
                                            { VMC_PROC_ACTIVATE_SECONDARY, "activate-secondary-controls" } };
    static const struct bit_name proc2[] = { { VMC_PROC2_ENABLE_EPT, "enable-ept" } };
    static const struct bit_name exitc[] = { { VMC_EXITCTL_HOST_ADDR_SPACE_SIZE, "host-address-space-size" },
                                             { VMC_EXITCTL_SAVE_EFER, "save-ia32-efer" },
                                             { VMC_EXITCTL_LOAD_EFER, "load-ia32-efer" } };
    static const struct bit_name entryc[] = { { VMC_ENTRYCTL_IA32E_MODE_GUEST, "ia-32e-mode-guest" },
                                              { VMC_ENTRYCTL_LOAD_EFER, "load-ia32-efer" } };
    word_print(f, "exec.pin_based_controls", v->exec.pin_based, pin, ARRAY_SIZE(pin));
    word_print(f, "exec.primary_processor_based_controls", v->exec.primary, proc, ARRAY_SIZE(proc));
    word_print(f, "exec.secondary_processor_based_controls", v->exec.secondary, proc2, ARRAY_SIZE(proc2));
    word_print(f, "exit.controls", v->exit_ctl.controls, exitc, ARRAY_SIZE(exitc));
    word_print(f, "entry.controls", v->entry.controls, entryc, ARRAY_SIZE(entryc));
}

static void exec_print(const struct vmc_vmcs *v, FILE *f)
{
    static const char *const io_policy[] = { "pass", "ignore", "deny" };
    fprintf(f, "exec.io_bitmap_a.intercepted %" PRIu32 "\nexec.io_bitmap_b.intercepted %" PRIu32 "\n",
            v->exec.io_intercepted_a, v->exec.io_intercepted_b);
    fprintf(f, "exec.io_default %s\n", v->exec.io_default < 3 ? io_policy[v->exec.io_default] : "?");
    fprintf(f, "exec.msr_bitmap.rules %" PRIu32 "\nexec.msr_bitmap.filter %d\n", v->exec.msr_rules,
            v->exec.msr_filter);
    fprintf(f, "exec.exception_bitmap 0x%08" PRIx32 "\nexec.cpuid.leaves %" PRIu32 "\n",
            v->exec.exception_bitmap, v->exec.cpuid_leaves);
    fprintf(f, "exec.hlt %s\nexec.user_hypercalls %d\n", v->exec.hlt_blocks ? "block" : "exit",
            v->exec.user_hypercalls);
    fprintf(f, "exec.timer.deadline_ns %" PRIu64 "\nexec.timer.vector %u\nexec.timeout_ns %" PRIu64 "\n",
            v->exec.timer_deadline_ns, v->exec.timer_vector, v->exec.timeout_ns);
    fprintf(f, "exit_ctl.host_64 %d\nexit_ctl.save_efer %d\nexit_ctl.stop_on_triple_fault %d\n",
            v->exit_ctl.host_64, v->exit_ctl.save_efer, v->exit_ctl.stop_on_triple);
    fprintf(f, "exit_ctl.report_exceptions %d\nexit_ctl.time_handlers %d\n", v->exit_ctl.report_exceptions,
            v->exit_ctl.time_handlers);
}

void vmc_vmcs_print(const struct vmc_vmcs *v, FILE *f)
{
    fprintf(f, "vmcs.vcpu %" PRIu32 "\n", v->vcpu);
    guest_print(v, f);
    fprintf(f, "host.thread_id %" PRId32 "\nhost.last_cpu %" PRId32 "\n", v->host.thread_id,
            v->host.last_cpu);
    fprintf(f, "host.runs %" PRIu64 "\nhost.halts %" PRIu64 "\nhost.halt_ns %" PRIu64 "\n", v->host.runs,
            v->host.halts, v->host.halt_ns);
    fprintf(f, "host.events_injected %" PRIu64 "\n", v->host.events_injected);
    controls_print(v, f);
    exec_print(v, f);
    fprintf(f, "entry.ia32e_mode_guest %d\nentry.interruption_info 0x%08" PRIx32 "\n", v->entry.ia32e_mode,
            v->entry.interruption_info);
    fprintf(f, "entry.exception_error_code 0x%08" PRIx32 "\n", v->entry.exception_error_code);
    fprintf(f, "entry.pending_irr 0x%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "\n",
            v->entry.pending_irr[3], v->entry.pending_irr[2], v->entry.pending_irr[1],
            v->entry.pending_irr[0]);
    const struct vmc_exit *x = &v->exit_info;
    fprintf(f, "exit.reason %" PRIu32 " %s\n", x->reason, vmc_exit_reason_name(x->reason));
    fprintf(f, "exit.qualification 0x%016" PRIx64 "\n", x->qualification);
    fprintf(f, "exit.guest_physical 0x%016" PRIx64 "\n", x->guest_phys);
    fprintf(f, "exit.instruction_length %" PRIu32 "\n", x->insn_len);
    fprintf(f, "exit.interruption_info 0x%08" PRIx32 "\nexit.interruption_error 0x%08" PRIx32 "\n",
            x->intr_info, x->intr_error);
    fprintf(f, "exit.kvm_reason %" PRIu32 "\n", x->kvm_reason);
}
