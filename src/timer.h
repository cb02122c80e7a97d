/* SPDX-License-Identifier: MIT */
/* Guest timers: one one-shot deadline per vCPU (set_timer), fired by one thread per VM. */
#ifndef VMCALL_SRC_TIMER_H
#define VMCALL_SRC_TIMER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vmc_vm;
struct vmc_vcpu;

struct vmc_vcpu_timer { /* guarded by the VM's timer lock */
    uint64_t deadline;  /* monotonic ns; 0 = none */
    uint8_t vector;
};

struct vmc_timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, quit;
    pthread_t thread;
};

int vmc_timer_init(struct vmc_vm *vm);
/* Stop and join the timer thread (before the VM is freed). */
void vmc_timer_stop(struct vmc_vm *vm);
/* Arm (deadline != 0) or cancel the vCPU's timer; the thread starts with the first deadline. -errno if it
 * cannot. */
int vmc_timer_set(struct vmc_vcpu *vcpu, uint64_t deadline, uint8_t vector);
void vmc_timer_get(struct vmc_vcpu *vcpu, uint64_t *deadline, uint8_t *vector);

#endif /* VMCALL_SRC_TIMER_H */
