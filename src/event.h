/* SPDX-License-Identifier: MIT */
/* Events waiting for a vCPU's next entry: exceptions, NMIs and external interrupts. */
#ifndef VMCALL_SRC_EVENT_H
#define VMCALL_SRC_EVENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_vm;
struct vmc_vcpu;

/* A vCPU's pending events (event.c). The lock guards everything but `any`, which the run loop reads
 * without it on every entry (the common case is nothing pending). */
struct vmc_vcpu_events {
    pthread_mutex_t lock;
    _Atomic bool any;
    bool exception, nmi;
    struct vmc_event exc;
    uint64_t irr[4];   /* external interrupt vectors requested, like a PIC's IRR */
    uint64_t injected; /* events delivered (written by the vCPU's thread) */
};

/* Every vCPU's pending set (the vCPUs are allocated). */
int vmc_event_init(struct vmc_vm *vm);
void vmc_event_destroy(struct vmc_vm *vm);
/* Forget everything pending (a vCPU brought up again starts clean, like after INIT). */
void vmc_event_reset(struct vmc_vcpu *vcpu);
/* -EINVAL unless the event could be injected (docs/abi-reference.md, "Event injection"). */
int vmc_event_check(const struct vmc_event *ev);
/* Queue an event (already checked) without a message: -EBUSY when an exception is already pending. */
int vmc_event_queue(struct vmc_vcpu *vcpu, const struct vmc_event *ev);
/* Raise external interrupt vector on the vCPU and make its thread notice (any thread). */
void vmc_event_raise_irq(struct vmc_vcpu *vcpu, uint8_t vector);
/* Take back vector if it was raised and not delivered: true if it was. For a personality that raises a
 * vector of its own to wake a vCPU (its wait ends, KVM_RUN is kicked) and handles it before entry. */
bool vmc_event_take_vector(struct vmc_vcpu *vcpu, uint8_t vector);
/* Is anything pending? (The wake condition of a blocked vCPU.) */
bool vmc_event_pending(struct vmc_vcpu *vcpu);
/* Is an exception or NMI pending (delivered whatever RFLAGS.IF says)? */
bool vmc_event_urgent(struct vmc_vcpu *vcpu);

/* What to deliver at the next entry, taken from the pending set. */
struct vmc_delivery {
    bool exception, nmi;
    struct vmc_event exc;
    int irq;             /* vector to inject through the interrupt window, -1: none */
    bool request_window; /* more interrupts wait: ask KVM for an interrupt-window exit */
};
/* Take what can be delivered now (window_open: KVM says an interrupt may be injected; an exception or
 * NMI goes first and the interrupt waits). Returns false, without the lock, when nothing is pending. */
bool vmc_event_take(struct vmc_vcpu *vcpu, bool window_open, struct vmc_delivery *d);
/* An interrupt taken by vmc_event_take could not be injected: put it back. */
void vmc_event_untake_irq(struct vmc_vcpu *vcpu, int vector);

/* For the control block: the entry event in VMX interruption-information form, and the IRR. */
void vmc_event_entry_info(struct vmc_vcpu *vcpu, uint32_t *info, uint32_t *error_code, uint64_t irr[4]);
/* Drop a pending exception or NMI (the control block sets a new entry event). */
void vmc_event_clear_urgent(struct vmc_vcpu *vcpu);
int vmc_event_highest_irr(const uint64_t irr[4]);

#endif /* VMCALL_SRC_EVENT_H */
