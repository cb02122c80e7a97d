/* SPDX-License-Identifier: MIT */
/* Event injection: validate and queue exceptions, NMIs and external interrupts; hand them to the run loop. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/x86.h"
#include "vm.h"

int vmc_event_init(struct vmc_vm *vm)
{
    int rc = 0;
    for (uint32_t i = 0; i < vm->nvcpus && rc == 0; i++) {
        memset(&vm->vcpus[i].ev, 0, sizeof(vm->vcpus[i].ev));
        rc = -pthread_mutex_init(&vm->vcpus[i].ev.lock, NULL);
    }
    return rc;
}

void vmc_event_destroy(struct vmc_vm *vm)
{
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        pthread_mutex_destroy(&vm->vcpus[i].ev.lock);
}

void vmc_event_reset(struct vmc_vcpu *vcpu)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    pthread_mutex_lock(&e->lock);
    e->exception = e->nmi = false;
    memset(e->irr, 0, sizeof(e->irr));
    atomic_store(&e->any, false);
    pthread_mutex_unlock(&e->lock);
}

int vmc_event_check(const struct vmc_event *ev)
{
    switch (ev->type) {
    case VMC_EVENT_EXCEPTION:
        /* SDM vol. 3A 6.15: vectors 0-31, not NMI (2); KVM refuses the others. */
        if (ev->vector >= X86_VEC_FIRST_IRQ || ev->vector == X86_VEC_NMI)
            return -EINVAL;
        if (ev->has_error_code != (bool)x86_exc_has_error_code(ev->vector))
            return -EINVAL;
        if (ev->cr2 && ev->vector != X86_VEC_PF)
            return -EINVAL;
        return 0;
    case VMC_EVENT_INTERRUPT:
        return ev->vector >= X86_VEC_FIRST_IRQ && !ev->has_error_code && !ev->cr2 ? 0 : -EINVAL;
    case VMC_EVENT_NMI:
        return (ev->vector == 0 || ev->vector == X86_VEC_NMI) && !ev->has_error_code && !ev->cr2 ? 0
                                                                                                 : -EINVAL;
    }
    return -EINVAL;
}

int vmc_event_highest_irr(const uint64_t irr[4])
{
    for (int w = 3; w >= 0; w--)
        if (irr[w])
            return w * 64 + 63 - __builtin_clzll(irr[w]);
    return -1;
}

int vmc_event_queue(struct vmc_vcpu *vcpu, const struct vmc_event *ev)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    int rc = 0;
    pthread_mutex_lock(&e->lock);
    if (ev->type == VMC_EVENT_EXCEPTION && e->exception) {
        rc = -EBUSY;
    } else if (ev->type == VMC_EVENT_EXCEPTION) {
        e->exc = *ev;
        e->exception = true;
    } else if (ev->type == VMC_EVENT_NMI) {
        e->nmi = true;
    } else {
        e->irr[ev->vector / 64] |= 1ull << (ev->vector % 64);
    }
    atomic_store_explicit(&e->any, true, memory_order_release);
    pthread_mutex_unlock(&e->lock);
    if (rc == 0) /* taken at the next entry, not at the next exit */
        vmc_sched_kick(vcpu);
    return rc;
}

int vmc_vcpu_inject(struct vmc_vcpu *vcpu, const struct vmc_event *ev)
{
    int rc = vmc_event_check(ev);
    if (rc)
        return vmc_vm_fail(vcpu->vm, rc, "invalid event (type %d, vector %u)", (int)ev->type, ev->vector);
    rc = vmc_event_queue(vcpu, ev);
    if (rc)
        return vmc_vm_fail(vcpu->vm, rc, "an exception is already pending");
    return 0;
}

void vmc_event_raise_irq(struct vmc_vcpu *vcpu, uint8_t vector)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    pthread_mutex_lock(&e->lock);
    e->irr[vector / 64] |= 1ull << (vector % 64);
    atomic_store_explicit(&e->any, true, memory_order_release);
    pthread_mutex_unlock(&e->lock);
    vmc_sched_kick(vcpu);
}

bool vmc_event_take_vector(struct vmc_vcpu *vcpu, uint8_t vector)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    if (!atomic_load_explicit(&e->any, memory_order_acquire))
        return false;
    pthread_mutex_lock(&e->lock);
    bool was = (e->irr[vector / 64] >> (vector % 64)) & 1;
    e->irr[vector / 64] &= ~(1ull << (vector % 64));
    atomic_store_explicit(&e->any, e->exception || e->nmi || vmc_event_highest_irr(e->irr) >= 0,
                          memory_order_release);
    pthread_mutex_unlock(&e->lock);
    return was;
}

bool vmc_event_pending(struct vmc_vcpu *vcpu)
{
    return atomic_load_explicit(&vcpu->ev.any, memory_order_acquire);
}

bool vmc_event_urgent(struct vmc_vcpu *vcpu)
{
    pthread_mutex_lock(&vcpu->ev.lock);
    bool urgent = vcpu->ev.exception || vcpu->ev.nmi;
    pthread_mutex_unlock(&vcpu->ev.lock);
    return urgent;
}

bool vmc_event_take(struct vmc_vcpu *vcpu, bool window_open, struct vmc_delivery *d)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    if (!atomic_load_explicit(&e->any, memory_order_acquire))
        return false; /* no lock on the exit path unless an event was injected */
    memset(d, 0, sizeof(*d));
    d->irq = -1;
    pthread_mutex_lock(&e->lock);
    if (e->exception) {
        d->exception = true;
        d->exc = e->exc;
        e->exception = false;
    } else if (e->nmi) {
        d->nmi = true;
        e->nmi = false;
    }
    int vec = vmc_event_highest_irr(e->irr);
    /* Userspace irqchip: an interrupt only when KVM says the window is open and nothing else goes in. */
    if (vec >= 0 && window_open && !d->exception && !d->nmi) {
        d->irq = vec;
        e->irr[vec / 64] &= ~(1ull << (vec % 64));
        vec = vmc_event_highest_irr(e->irr);
    }
    d->request_window = vec >= 0;
    atomic_store_explicit(&e->any, e->exception || e->nmi || vec >= 0, memory_order_release);
    pthread_mutex_unlock(&e->lock);
    return true;
}

void vmc_event_untake_irq(struct vmc_vcpu *vcpu, int vector)
{
    vmc_event_raise_irq(vcpu, (uint8_t)vector);
}

void vmc_event_entry_info(struct vmc_vcpu *vcpu, uint32_t *info, uint32_t *error_code, uint64_t irr[4])
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    pthread_mutex_lock(&e->lock);
    *info = 0;
    *error_code = 0;
    if (e->exception) {
        *info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_HW_EXC | e->exc.vector |
                (e->exc.has_error_code ? VMC_INTR_DELIVER_CODE : 0);
        *error_code = e->exc.error_code;
    } else if (e->nmi) {
        *info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_NMI | X86_VEC_NMI;
    } else if (vmc_event_highest_irr(e->irr) >= 0) {
        *info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_EXT_INTR | (uint32_t)vmc_event_highest_irr(e->irr);
    }
    memcpy(irr, e->irr, sizeof(e->irr));
    pthread_mutex_unlock(&e->lock);
}

void vmc_event_clear_urgent(struct vmc_vcpu *vcpu)
{
    struct vmc_vcpu_events *e = &vcpu->ev;
    pthread_mutex_lock(&e->lock);
    e->exception = e->nmi = false;
    atomic_store(&e->any, vmc_event_highest_irr(e->irr) >= 0);
    pthread_mutex_unlock(&e->lock);
}
