/* SPDX-License-Identifier: MIT */
/* The vCPU run loop: deliver events, KVM_RUN, decode, let the exit table decide, then act on its decision. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86_64/insn.h"
#include "exit.h"
#include "linux/linux.h"
#include "report.h"
#include "vm.h"

void vmc_vcpu_set_entry(struct vmc_vcpu *vcpu, const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
    vcpu->run->s.regs.regs = *regs;
    vcpu->run->s.regs.sregs = *sregs;
    vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
}

/* What the event module hands over goes in through sync regs (no KVM_SET_VCPU_EVENTS ioctl); an external
 * interrupt through KVM_INTERRUPT once KVM says the interrupt window is open (userspace irqchip,
 * docs/abi-reference.md, "KVM"). */
static int deliver_events(struct vmc_vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    struct vmc_delivery d;
    bool window = run->ready_for_interrupt_injection && !(run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS);
    if (!vmc_event_take(vcpu, window, &d))
        return 0;
    struct kvm_vcpu_events *e = &run->s.regs.events;
    if (d.exception) {
        e->exception.injected = 1;
        e->exception.nr = d.exc.vector;
        e->exception.has_error_code = d.exc.has_error_code;
        e->exception.error_code = d.exc.error_code;
        e->flags = 0;
        vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_EVENTS);
        if (d.exc.vector == 14) { /* CR2 rides along in SREGS for #PF */
            run->s.regs.sregs.cr2 = d.exc.cr2;
            vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_SREGS);
        }
    } else if (d.nmi) {
        e->nmi.pending = 1;
        e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
        vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_EVENTS);
    }
    if (d.irq >= 0) {
        struct kvm_interrupt irq = { .irq = (uint32_t)d.irq };
        if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0) {
            int e2 = errno;
            vmc_event_untake_irq(vcpu, d.irq);
            return vmc_vm_fail(vcpu->vm, -e2, "KVM_INTERRUPT: %s", strerror(e2));
        }
    }
    STAT_ADD(vcpu->ev.injected, (uint64_t)(d.exception || d.nmi) + (d.irq >= 0));
    run->request_interrupt_window = d.request_window;
    return 0;
}

/*
 * KVM completes a userspace I/O exit on the next KVM_RUN (RIP, RAX for IN, memory for INS): run that
 * completion without entering the guest (immediate_exit: docs/abi-reference.md, "KVM"), feeding IN exits
 * data that leaves memory as it is. A REP string instruction may need several completions.
 */
static int complete_io(struct vmc_vcpu *vcpu, const struct vmc_io_access *io)
{
    struct kvm_run *run = vcpu->run;
    for (int i = 0;; i++) {
        if (io->in && run->io.data_offset <= (uint64_t)vcpu->vm->kvm->run_size &&
            (uint64_t)run->io.size * run->io.count <= (uint64_t)vcpu->vm->kvm->run_size - run->io.data_offset)
            vmc_x86_io_neutral_in(&vcpu->vm->mem, vmc_vcpu_sregs(vcpu), vmc_vcpu_regs(vcpu), io,
                                  (uint8_t *)run + run->io.data_offset, run->io.count);
        run->immediate_exit = 1;
        int rc = ioctl(vcpu->fd, KVM_RUN, 0);
        int e = errno;
        run->immediate_exit = 0;
        if (rc < 0 && (e == EINTR || e == EAGAIN))
            return 0;
        if (rc < 0)
            return vmc_vm_fail(vcpu->vm, -e, "KVM_RUN (completing a denied I/O access): %s", strerror(e));
        if (run->exit_reason != KVM_EXIT_IO || i == 65536)
            return vmc_vm_fail(vcpu->vm, -EIO, "KVM did not complete a denied I/O access (exit %u)",
                               run->exit_reason);
    }
}

/* Put the vCPU back before the I/O instruction of the last exit, with the registers the exit handler
 * left (vmc_x86_io_undo): the instruction runs again on the next entry. If it cannot be found, RIP stays
 * where it is. */
static int undo_io(struct vmc_vcpu *vcpu, const struct vmc_io_access *io)
{
    const struct kvm_regs saved = *vmc_vcpu_regs(vcpu);
    const struct kvm_sregs sregs = *vmc_vcpu_sregs(vcpu);
    int rc = complete_io(vcpu, io);
    if (rc < 0)
        return rc;
    bool moved = vmc_vcpu_regs(vcpu)->rip != saved.rip;
    struct kvm_regs r = saved;
    vmc_x86_io_undo(&vcpu->vm->mem, &sregs, &r, io, moved);
    *vmc_vcpu_regs(vcpu) = r;
    vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_REGS);
    return 0;
}

/* A denied I/O access: no effect, then the fault at the instruction. */
static int io_fault(struct vmc_vcpu *vcpu, const struct vmc_action *act)
{
    const struct vmc_io_access io = { act->io_port, act->io_size, act->io_in };
    int rc = undo_io(vcpu, &io);
    if (rc == 0)
        vmc_event_queue(vcpu, &act->fault); /* an exception the embedder queued goes first */
    return rc;
}

/* A hypercall continuation: the doorbell OUT runs again once the action is done. */
static int restart_doorbell(struct vmc_vcpu *vcpu)
{
    const struct vmc_io_access io = { VMC_PORT_HYPERCALL, 1, false };
    return undo_io(vcpu, &io);
}

enum loop_end { LOOP_AGAIN = 1, LOOP_STOP, LOOP_DOWN };

/* Carry out an exit's action: LOOP_AGAIN to re-enter, else how the loop ends (or a negative errno). */
static int act_on(struct vmc_vcpu *vcpu, const struct vmc_action *act)
{
    if (act->restart && act->kind != VMC_ACT_STOP && act->kind != VMC_ACT_ERROR) {
        int rc = restart_doorbell(vcpu);
        if (rc < 0)
            return rc;
    }
    switch (act->kind) {
    case VMC_ACT_CONTINUE:
        return LOOP_AGAIN;
    case VMC_ACT_BLOCK:
    case VMC_ACT_HALT:
        if (vmc_sched_block(vcpu, act->until, act->kind == VMC_ACT_HALT,
                            act->wake ? act->wake : vmc_event_pending) != VMC_WAKE_TIMEOUT)
            return LOOP_AGAIN; /* a stop, cancel or down request is seen before the next entry */
        vcpu->result.stop = VMC_STOP_TIMEOUT;
        return LOOP_STOP;
    case VMC_ACT_DOWN:
        return LOOP_DOWN;
    case VMC_ACT_STOP:
        vcpu->result = act->stop;
        if (act->stop.exit_valid)
            vcpu->exit = act->stop.exit;
        return LOOP_STOP;
    case VMC_ACT_IO_FAULT: {
        int rc = io_fault(vcpu, act);
        return rc < 0 ? rc : LOOP_AGAIN;
    }
    case VMC_ACT_ERROR:
        return act->rc < 0 ? act->rc : -EIO;
    }
    return -EINVAL;
}

/* Enter the guest until this vCPU's part of the run ends: LOOP_STOP (vcpu->result says why; VMC_STOP_NONE
 * when another vCPU ended the run), LOOP_DOWN, or a negative errno. */
static int run_loop(struct vmc_vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    for (;;) {
        switch (vmc_sched_check(vcpu)) {
        case VMC_CHECK_CANCELLED:
            vcpu->result.stop = VMC_STOP_CANCELLED;
            return LOOP_STOP;
        case VMC_CHECK_FAILED:
            return vmc_sched_cancel_rc(vcpu->vm);
        case VMC_CHECK_STOPPING:
            return LOOP_STOP;
        case VMC_CHECK_DOWN:
            return LOOP_DOWN;
        case VMC_CHECK_RUN:
            break;
        }
        if (vcpu->vm->lx) { /* a signal for the program: its handler, or the end of the program */
            struct vmc_action act = { .kind = VMC_ACT_CONTINUE };
            vmc_lx_async(vcpu, &act);
            int end = act_on(vcpu, &act);
            if (end != LOOP_AGAIN)
                return end;
        }
        int rc = deliver_events(vcpu);
        if (rc < 0)
            return rc;
        if (vcpu->vm->entry_hook)
            vcpu->vm->entry_hook(vcpu, vcpu->vm->entry_hook_arg);
        /* Only a VM whose pages have rights can fault on them (the Linux personality) */
        uint64_t epoch = vcpu->vm->mem.sealed ? vmc_mem_rights_epoch(&vcpu->vm->mem) : 0;
        if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
            int e = errno;
            if (e == EFAULT && vcpu->vm->mem.sealed && !vmc_mem_rights_settled(&vcpu->vm->mem, epoch))
                continue; /* a page met while its rights changed: the access is tried again */
            if (e == EFAULT && vcpu->vm->mem.sealed) {
                /* A sealed page (vmc_mem_seal): the guest's own doing, not the VMM's failure. */
                vcpu->result = (struct vmc_stop_req){ .stop = VMC_STOP_CRASH, .crash = VMC_CRASH_UNMAPPED };
                vcpu->exit = (struct vmc_exit){ .reason = VMC_EXIT_EPT_VIOLATION }; /* what VMX would say */
                return LOOP_STOP;
            }
            if (e != EINTR && e != EAGAIN)
                return vmc_vm_fail(vcpu->vm, -e, "KVM_RUN: %s", strerror(e));
            /* Kicked: a cancel, stop or event (checked at the top), the timeout, or a stray signal. */
            run->immediate_exit = 0;
            vmc_exit_count(vcpu, VMC_EXIT_EXTERNAL_INTR);
            if (vmc_sched_timed_out(vcpu->vm)) {
                vcpu->result.stop = VMC_STOP_TIMEOUT;
                return LOOP_STOP;
            }
            continue;
        }
        vmc_exit_decode(run, &vcpu->exit);
        struct vmc_action act;
        vmc_exit_handle(vcpu, &vcpu->exit, &act);
        rc = act_on(vcpu, &act);
        if (rc != LOOP_AGAIN)
            return rc;
    }
}

/*
 * One vCPU's life within a vmc_vm_run, on its own thread (vCPU 0: the caller's). A vCPU that goes down
 * waits here to be brought up again; the thread leaves when the VM stops.
 */
static void vcpu_main(struct vmc_vcpu *vcpu)
{
    vmc_sched_enter(vcpu);
    for (;;) {
        enum vmc_stop why;
        if (!vmc_sched_wait_up(vcpu, &why)) {
            if (why != VMC_STOP_NONE) {
                vcpu->result = (struct vmc_stop_req){ .stop = why };
                vcpu->rc = why == VMC_STOP_ERROR ? vmc_sched_cancel_rc(vcpu->vm) : 0;
                vmc_sched_stop(vcpu);
            }
            break;
        }
        memset(&vcpu->result, 0, sizeof(vcpu->result));
        int rc = run_loop(vcpu);
        if (rc < 0) {
            vcpu->rc = rc;
            vcpu->result.stop = VMC_STOP_ERROR;
        }
        if (rc == LOOP_DOWN) {
            if (!vmc_sched_went_down(vcpu))
                continue;
            vcpu->result = (struct vmc_stop_req){ .stop = VMC_STOP_EXIT }; /* the last one down */
        }
        if (vcpu->result.stop != VMC_STOP_NONE)
            vmc_sched_stop(vcpu);
        break;
    }
    vmc_sched_leave(vcpu);
    vcpu->run->immediate_exit = 0;
}

static void *vcpu_thread(void *arg)
{
    vcpu_main(arg);
    return NULL;
}

int vmc_vcpu_run_vm(struct vmc_vm *vm, struct vmc_result *res)
{
    struct vmc_vcpu *boot = &vm->vcpus[0];
    int rc = vmc_sched_run_begin(vm, vcpu_thread);
    if (rc == 0) {
        vcpu_main(boot);
    } else {
        boot->rc = rc;
        boot->result = (struct vmc_stop_req){ .stop = VMC_STOP_ERROR };
    }
    struct vmc_vcpu *stopper = vmc_sched_run_end(vm);
    vmc_result_build(stopper, res);
    if (res->stop == VMC_STOP_ERROR)
        return stopper->rc ? stopper->rc : -EIO;
    return 0;
}
