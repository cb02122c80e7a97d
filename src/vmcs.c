/* SPDX-License-Identifier: MIT */
/* The VMCS-shaped control block: a vCPU's KVM state and VMM controls read, written and printed as VMCS areas.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* VMX access-rights layout (SDM vol. 3C 25.4.1, table 25-2) <-> KVM's unpacked segment. */
static uint32_t access_rights(const struct kvm_segment *s)
{
    return (s->type & 0xfu) | (uint32_t)(s->s & 1) << 4 | (uint32_t)(s->dpl & 3) << 5 |
           (uint32_t)(s->present & 1) << 7 | (uint32_t)(s->avl & 1) << 12 | (uint32_t)(s->l & 1) << 13 |
           (uint32_t)(s->db & 1) << 14 | (uint32_t)(s->g & 1) << 15 | (uint32_t)(s->unusable & 1) << 16;
}

static void seg_out(struct vmc_vmcs_segment *o, const struct kvm_segment *s)
{
    *o = (struct vmc_vmcs_segment){ s->selector, s->base, s->limit, access_rights(s) };
}

static void seg_in(struct kvm_segment *s, const struct vmc_vmcs_segment *i)
{
    uint32_t ar = i->access_rights;
    *s = (struct kvm_segment){ .base = i->base,
                               .limit = i->limit,
                               .selector = i->selector,
                               .type = ar & 0xf,
                               .s = (ar >> 4) & 1,
                               .dpl = (ar >> 5) & 3,
                               .present = (ar >> 7) & 1,
                               .avl = (ar >> 12) & 1,
                               .l = (ar >> 13) & 1,
                               .db = (ar >> 14) & 1,
                               .g = (ar >> 15) & 1,
                               .unusable = (ar >> 16) & 1 };
}

/* Only while nobody runs the vCPU, or from its own thread (a handler inspecting its caller). */
static bool accessible(const struct vmc_vcpu *vcpu)
{
    return !vcpu->vm->running || (vcpu->alive && pthread_equal(vcpu->thread, pthread_self()));
}

int vmc_vcpu_get_vmcs(struct vmc_vcpu *vcpu, struct vmc_vmcs *v)
{
    struct vmc_vm *vm = vcpu->vm;
    if (!accessible(vcpu))
        return vmc_vm_fail(vm, -EBUSY, "vCPU %u is running", vcpu->id);
    const struct kvm_regs *r = &vcpu->run->s.regs.regs;
    const struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
    const struct kvm_vcpu_events *e = &vcpu->run->s.regs.events;
    memset(v, 0, sizeof(*v));
    v->vcpu = vcpu->id;
    v->guest.rax = r->rax, v->guest.rbx = r->rbx, v->guest.rcx = r->rcx, v->guest.rdx = r->rdx;
    v->guest.rsi = r->rsi, v->guest.rdi = r->rdi, v->guest.rbp = r->rbp, v->guest.rsp = r->rsp;
    v->guest.r8 = r->r8, v->guest.r9 = r->r9, v->guest.r10 = r->r10, v->guest.r11 = r->r11;
    v->guest.r12 = r->r12, v->guest.r13 = r->r13, v->guest.r14 = r->r14, v->guest.r15 = r->r15;
    v->guest.rip = r->rip, v->guest.rflags = r->rflags;
    v->guest.cr0 = s->cr0, v->guest.cr2 = s->cr2, v->guest.cr3 = s->cr3, v->guest.cr4 = s->cr4;
    v->guest.efer = s->efer;
    struct kvm_debugregs dr;
    if (ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &dr) == 0)
        v->guest.dr7 = dr.dr7;
    seg_out(&v->guest.es, &s->es), seg_out(&v->guest.cs, &s->cs), seg_out(&v->guest.ss, &s->ss);
    seg_out(&v->guest.ds, &s->ds), seg_out(&v->guest.fs, &s->fs), seg_out(&v->guest.gs, &s->gs);
    seg_out(&v->guest.ldtr, &s->ldt), seg_out(&v->guest.tr, &s->tr);
    v->guest.gdtr_base = s->gdt.base, v->guest.gdtr_limit = s->gdt.limit;
    v->guest.idtr_base = s->idt.base, v->guest.idtr_limit = s->idt.limit;
    v->guest.interruptibility = (e->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS ? 2u : 0) |
                                (e->interrupt.shadow & KVM_X86_SHADOW_INT_STI ? 1u : 0) |
                                (e->nmi.masked ? 8u : 0);

    pthread_mutex_lock(&vm->lock);
    if (vcpu->req.stop == VMC_STOP_CRASH && vcpu->req.crash == VMC_CRASH_TRIPLE_FAULT)
        v->guest.activity = VMC_ACTIVITY_SHUTDOWN;
    else if (vcpu->state == VMC_VCPU_DOWN)
        v->guest.activity = VMC_ACTIVITY_WAIT_SIPI;
    else if (vcpu->halted)
        v->guest.activity = VMC_ACTIVITY_HLT;
    const struct vmc_pending *p = &vcpu->pending;
    if (p->exception) {
        v->entry.interruption_info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_HW_EXC | p->exc.vector |
                                     (p->exc.has_error_code ? VMC_INTR_DELIVER_CODE : 0);
        v->entry.exception_error_code = p->exc.error_code;
    } else if (p->nmi) {
        v->entry.interruption_info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_NMI | 2;
    } else if (vmc_event_highest_irr(p->irr) >= 0) {
        v->entry.interruption_info =
            VMC_INTR_INFO_VALID | VMC_INTR_TYPE_EXT_INTR | (uint32_t)vmc_event_highest_irr(p->irr);
    }
    memcpy(v->entry.pending_irr, p->irr, sizeof(p->irr));
    v->exec.timer_deadline_ns = vcpu->timer_deadline;
    v->exec.timer_vector = vcpu->timer_deadline ? vcpu->timer_vector : 0;
    v->host.thread_id = vcpu->tid;
    pthread_mutex_unlock(&vm->lock);
    v->entry.ia32e_mode = (s->efer & (1ull << 10)) != 0;

    v->host.last_cpu = vcpu->runs ? vcpu->last_cpu : -1;
    v->host.runs = vcpu->runs, v->host.halts = vcpu->halts, v->host.halt_ns = vcpu->halt_ns;
    v->host.events_injected = vcpu->events_injected;

    for (uint32_t port = 0; port < 65536; port++)
        if (vmc_vm_io_policy(vm, (uint16_t)port) != VMC_IO_PASS)
            (*(port < 0x8000 ? &v->exec.io_intercepted_a : &v->exec.io_intercepted_b))++;
    v->exec.io_default = vm->cfg.io_default;
    v->exec.msr_rules = vm->nmsr_rules;
    v->exec.msr_filter = vm->msr_exits;
    v->exec.exception_bitmap =
        0xffffffffu; /* the default IDT reports vectors 0-31 until the guest loads its own */
    v->exec.cpuid_leaves = (vm->cpuid ? vm->cpuid : vm->kvm->cpuid)->nent;
    v->exec.hlt_blocks = true;
    v->exec.user_hypercalls = vm->hc_allow_user;
    v->exec.timeout_ns = vm->cfg.timeout_ns;
    v->exit_ctl.host_64 = true;
    v->exit_ctl.save_efer = true;
    v->exit_ctl.stop_on_triple = true;
    v->exit_ctl.report_exceptions = true;
    v->exit_ctl.time_handlers = vm->cfg.stats;
    v->exit_info = vcpu->exit;
    return 0;
}

/* A VMX entry interruption-information field as a vmc_event; -EINVAL for what cannot be injected. */
static int entry_event(const struct vmc_vmcs *in, struct vmc_event *ev)
{
    uint32_t info = in->entry.interruption_info, type = info & (7u << 8);
    if (info & ~(VMC_INTR_INFO_VALID | (7u << 8) | VMC_INTR_DELIVER_CODE | 0xffu))
        return -EINVAL;
    *ev = (struct vmc_event){ .vector = (uint8_t)info };
    if (type == VMC_INTR_TYPE_HW_EXC) {
        ev->type = VMC_EVENT_EXCEPTION;
        ev->has_error_code = (info & VMC_INTR_DELIVER_CODE) != 0;
        ev->error_code = in->entry.exception_error_code;
        ev->cr2 = ev->vector == 14 ? in->guest.cr2 : 0;
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

int vmc_vcpu_set_vmcs(struct vmc_vcpu *vcpu, const struct vmc_vmcs *in)
{
    struct vmc_vm *vm = vcpu->vm;
    if (!accessible(vcpu))
        return vmc_vm_fail(vm, -EBUSY, "vCPU %u is running", vcpu->id);
    struct vmc_event ev;
    bool inject = (in->entry.interruption_info & VMC_INTR_INFO_VALID) != 0;
    if (inject && entry_event(in, &ev) != 0)
        return vmc_vm_fail(vm, -EINVAL, "invalid entry interruption information 0x%x",
                           in->entry.interruption_info);
    if (in->guest.interruptibility & ~0xbu)
        return vmc_vm_fail(vm, -EINVAL, "invalid interruptibility 0x%x", in->guest.interruptibility);
    struct kvm_debugregs dr;
    if (ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &dr) == 0 && dr.dr7 != in->guest.dr7) {
        dr.dr7 = in->guest.dr7;
        if (ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &dr) < 0)
            return vmc_vm_fail(vm, -errno, "KVM_SET_DEBUGREGS: %s", strerror(errno));
    }
    struct kvm_run *run = vcpu->run;
    struct kvm_regs *r = &run->s.regs.regs;
    struct kvm_sregs *s = &run->s.regs.sregs;
    const typeof(in->guest) *g = &in->guest;
    r->rax = g->rax, r->rbx = g->rbx, r->rcx = g->rcx, r->rdx = g->rdx;
    r->rsi = g->rsi, r->rdi = g->rdi, r->rbp = g->rbp, r->rsp = g->rsp;
    r->r8 = g->r8, r->r9 = g->r9, r->r10 = g->r10, r->r11 = g->r11;
    r->r12 = g->r12, r->r13 = g->r13, r->r14 = g->r14, r->r15 = g->r15;
    r->rip = g->rip, r->rflags = g->rflags;
    s->cr0 = g->cr0, s->cr2 = g->cr2, s->cr3 = g->cr3, s->cr4 = g->cr4, s->efer = g->efer;
    seg_in(&s->es, &g->es), seg_in(&s->cs, &g->cs), seg_in(&s->ss, &g->ss), seg_in(&s->ds, &g->ds);
    seg_in(&s->fs, &g->fs), seg_in(&s->gs, &g->gs), seg_in(&s->ldt, &g->ldtr), seg_in(&s->tr, &g->tr);
    s->gdt.base = g->gdtr_base, s->gdt.limit = (uint16_t)g->gdtr_limit;
    s->idt.base = g->idtr_base, s->idt.limit = (uint16_t)g->idtr_limit;
    struct kvm_vcpu_events *e = &run->s.regs.events;
    e->interrupt.shadow = (g->interruptibility & 1 ? KVM_X86_SHADOW_INT_STI : 0) |
                          (g->interruptibility & 2 ? KVM_X86_SHADOW_INT_MOV_SS : 0);
    e->nmi.masked = (g->interruptibility & 8) != 0;
    e->flags = KVM_VCPUEVENT_VALID_SHADOW;
    run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;

    pthread_mutex_lock(&vm->lock);
    vcpu->pending.exception = false;
    vcpu->pending.nmi = false;
    atomic_store(&vcpu->pending.any, vmc_event_highest_irr(vcpu->pending.irr) >= 0);
    pthread_mutex_unlock(&vm->lock);
    return inject ? vmc_vcpu_inject(vcpu, &ev) : 0;
}

static void seg_print(FILE *f, const char *name, const struct vmc_vmcs_segment *s)
{
    fprintf(f, "guest.%s.selector 0x%04" PRIx16 "\n", name, s->selector);
    fprintf(f, "guest.%s.base 0x%016" PRIx64 "\n", name, s->base);
    fprintf(f, "guest.%s.limit 0x%08" PRIx32 "\n", name, s->limit);
    fprintf(f, "guest.%s.access_rights 0x%05" PRIx32 "\n", name, s->access_rights);
}

void vmc_vmcs_print(const struct vmc_vmcs *v, FILE *f)
{
    static const char *const activity[] = { "active", "hlt", "shutdown", "wait-for-sipi" };
    static const char *const io_policy[] = { "pass", "ignore", "deny" };
    const typeof(v->guest) *g = &v->guest;
    fprintf(f, "vmcs.vcpu %" PRIu32 "\n", v->vcpu);
    const struct {
        const char *name;
        uint64_t val;
    } gprs[] = { { "rax", g->rax }, { "rbx", g->rbx },       { "rcx", g->rcx },   { "rdx", g->rdx },
                 { "rsi", g->rsi }, { "rdi", g->rdi },       { "rbp", g->rbp },   { "rsp", g->rsp },
                 { "r8", g->r8 },   { "r9", g->r9 },         { "r10", g->r10 },   { "r11", g->r11 },
                 { "r12", g->r12 }, { "r13", g->r13 },       { "r14", g->r14 },   { "r15", g->r15 },
                 { "rip", g->rip }, { "rflags", g->rflags }, { "cr0", g->cr0 },   { "cr2", g->cr2 },
                 { "cr3", g->cr3 }, { "cr4", g->cr4 },       { "efer", g->efer }, { "dr7", g->dr7 } };
    for (size_t i = 0; i < ARRAY_SIZE(gprs); i++)
        fprintf(f, "guest.%s 0x%016" PRIx64 "\n", gprs[i].name, gprs[i].val);
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
    fprintf(f, "host.thread_id %" PRId32 "\nhost.last_cpu %" PRId32 "\n", v->host.thread_id,
            v->host.last_cpu);
    fprintf(f, "host.runs %" PRIu64 "\nhost.halts %" PRIu64 "\nhost.halt_ns %" PRIu64 "\n", v->host.runs,
            v->host.halts, v->host.halt_ns);
    fprintf(f, "host.events_injected %" PRIu64 "\n", v->host.events_injected);
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
