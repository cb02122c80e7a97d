/* SPDX-License-Identifier: MIT */
/* Guest timers: the thread that sleeps until the earliest vCPU deadline and raises its interrupt. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"
#include "vm.h"

int vmc_timer_init(struct vmc_vm *vm)
{
    struct vmc_timer *t = &vm->timer;
    memset(t, 0, sizeof(*t));
    int rc = vmc_cond_init(&t->cond);
    return rc ? rc : -pthread_mutex_init(&t->lock, NULL);
}

/*
 * Due interrupts are raised with the timer lock released: raising kicks the vCPU under the sched lock,
 * and vcpu_op up takes the timer lock inside the sched lock (lock order: docs/architecture.md).
 */
static void *timer_main(void *arg)
{
    struct vmc_vm *vm = arg;
    struct vmc_timer *t = &vm->timer;
    if (vm->sandboxed)
        vmc_sandbox_install(NULL, VMC_SANDBOX_TIMER);
    pthread_mutex_lock(&t->lock);
    while (!t->quit) {
        uint64_t now = vmc_now_ns(), next = 0;
        for (uint32_t i = 0; i < vm->nvcpus; i++) {
            struct vmc_vcpu_timer *v = &vm->vcpus[i].timer;
            if (!v->deadline)
                continue;
            if (v->deadline <= now) {
                uint8_t vector = v->vector;
                v->deadline = 0;
                pthread_mutex_unlock(&t->lock);
                vmc_event_raise_irq(&vm->vcpus[i], vector);
                pthread_mutex_lock(&t->lock);
            } else if (!next || v->deadline < next) {
                next = v->deadline;
            }
        }
        if (next) {
            struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        } else if (!t->quit) {
            pthread_cond_wait(&t->cond, &t->lock);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int vmc_timer_set(struct vmc_vcpu *vcpu, uint64_t deadline, uint8_t vector)
{
    struct vmc_timer *t = &vcpu->vm->timer;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    if (deadline && !t->started) {
        int e = pthread_create(&t->thread, NULL, timer_main, vcpu->vm);
        rc = -e;
        t->started = e == 0;
    }
    if (rc == 0) {
        vcpu->timer.deadline = deadline;
        vcpu->timer.vector = vector;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void vmc_timer_get(struct vmc_vcpu *vcpu, uint64_t *deadline, uint8_t *vector)
{
    pthread_mutex_lock(&vcpu->vm->timer.lock);
    *deadline = vcpu->timer.deadline;
    *vector = vcpu->timer.deadline ? vcpu->timer.vector : 0;
    pthread_mutex_unlock(&vcpu->vm->timer.lock);
}

void vmc_timer_stop(struct vmc_vm *vm)
{
    struct vmc_timer *t = &vm->timer;
    pthread_mutex_lock(&t->lock);
    bool started = t->started;
    t->quit = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (started)
        pthread_join(t->thread, NULL);
    t->started = false;
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
}
