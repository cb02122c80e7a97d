/* SPDX-License-Identifier: MIT */
/* Event injection: validate, queue, and deliver exceptions, NMIs and external interrupts before entry. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

int vmc_event_check(const struct vmc_event *ev)
{
    switch (ev->type) {
    case VMC_EVENT_EXCEPTION:
        /* SDM vol. 3A 6.15; abi-reference 3.8 and 6.9: KVM refuses vectors > 31 and 2. */
        if (ev->vector > 31 || ev->vector == 2)
            return -EINVAL;
        if (ev->has_error_code != vmc_x86_exc_has_error_code(ev->vector))
            return -EINVAL;
        if (ev->cr2 && ev->vector != 14)
            return -EINVAL;
        return 0;
    case VMC_EVENT_INTERRUPT:
        return ev->vector >= 32 && !ev->has_error_code && !ev->cr2 ? 0 : -EINVAL;
    case VMC_EVENT_NMI:
        return (ev->vector == 0 || ev->vector == 2) && !ev->has_error_code && !ev->cr2 ? 0 : -EINVAL;
    }
    return -EINVAL;
}

struct vmc_vcpu *vmc_vm_vcpu(struct vmc_vm *vm, uint32_t id)
{
    return id < vm->nvcpus ? &vm->vcpus[id] : NULL;
}

int vmc_vcpu_inject(struct vmc_vcpu *vcpu, const struct vmc_event *ev)
{
    struct vmc_vm *vm = vcpu->vm;
    int rc = vmc_event_check(ev);
    if (rc)
        return vmc_vm_fail(vm, rc, "invalid event (type %d, vector %u)", (int)ev->type, ev->vector);
    pthread_mutex_lock(&vm->lock);
    struct vmc_pending *p = &vcpu->pending;
    if (ev->type == VMC_EVENT_EXCEPTION && p->exception) {
        rc = vmc_vm_fail(vm, -EBUSY, "an exception is already pending");
    } else if (ev->type == VMC_EVENT_EXCEPTION) {
        p->exc = *ev;
        p->exception = true;
    } else if (ev->type == VMC_EVENT_NMI) {
        p->nmi = true;
    } else {
        p->irr[ev->vector / 64] |= 1ull << (ev->vector % 64);
    }
    atomic_store_explicit(&p->any, true, memory_order_release);
    /* Kick the vCPU so that the event is taken at the next entry, not at the next exit. */
    if (rc == 0)
        vmc_vcpu_kick_locked(vcpu);
    pthread_mutex_unlock(&vm->lock);
    return rc;
}

void vmc_event_raise_irq_locked(struct vmc_vcpu *vcpu, uint8_t vector)
{
    struct vmc_pending *p = &vcpu->pending;
    p->irr[vector / 64] |= 1ull << (vector % 64);
    atomic_store_explicit(&p->any, true, memory_order_release);
    vmc_vcpu_kick_locked(vcpu);
}

bool vmc_event_irq_pending_locked(const struct vmc_vcpu *vcpu)
{
    return atomic_load_explicit(&vcpu->pending.any, memory_order_acquire);
}

int vmc_event_highest_irr(const uint64_t irr[4])
{
    for (int w = 3; w >= 0; w--)
        if (irr[w])
            return w * 64 + 63 - __builtin_clzll(irr[w]);
    return -1;
}

int vmc_event_deliver(struct vmc_vcpu *vcpu)
{
    struct vmc_vm *vm = vcpu->vm;
    struct kvm_run *run = vcpu->run;
    struct vmc_pending *p = &vcpu->pending;
    if (!atomic_load_explicit(&p->any, memory_order_acquire))
        return 0; /* no lock on the exit path unless an event was injected */
    pthread_mutex_lock(&vm->lock);
    int rc = 0;
    struct kvm_vcpu_events *e = &run->s.regs.events;
    if (p->exception) {
        /* Through sync regs: no KVM_SET_VCPU_EVENTS ioctl. CR2 rides along in SREGS for #PF. */
        e->exception.injected = 1;
        e->exception.nr = p->exc.vector;
        e->exception.has_error_code = p->exc.has_error_code;
        e->exception.error_code = p->exc.error_code;
        e->flags = 0;
        run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
        if (p->exc.vector == 14) {
            run->s.regs.sregs.cr2 = p->exc.cr2;
            run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        }
        p->exception = false;
        vcpu->events_injected++;
    } else if (p->nmi) {
        e->nmi.pending = 1;
        e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
        run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
        p->nmi = false;
        vcpu->events_injected++;
    }
    int vec = vmc_event_highest_irr(p->irr);
    if (vec >= 0) {
        /* Userspace irqchip (abi-reference 3.8): inject only when KVM says the window is open. */
        if (run->ready_for_interrupt_injection && !(run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS)) {
            struct kvm_interrupt irq = { .irq = (uint32_t)vec };
            if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0) {
                rc = vmc_vm_fail(vm, -errno, "KVM_INTERRUPT: %s", strerror(errno));
                goto out;
            }
            p->irr[vec / 64] &= ~(1ull << (vec % 64));
            vcpu->events_injected++;
            vec = vmc_event_highest_irr(p->irr);
        }
    }
    run->request_interrupt_window = vec >= 0;
    atomic_store_explicit(&p->any, p->exception || p->nmi || vec >= 0, memory_order_release);
out:
    pthread_mutex_unlock(&vm->lock);
    return rc;
}
