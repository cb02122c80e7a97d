/* SPDX-License-Identifier: MIT */
/* Several vCPUs: the vcpu_op, send_ipi and set_timer hypercalls, and the thread that fires guest timers. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static bool irq_vector_ok(uint64_t vector)
{
    return vector >= 32 && vector <= 255; /* 0-31 are exceptions (SDM vol. 3A 6.3) */
}

/* Start `target` in the caller's context (abi.h, VMC_HC_VCPU_OP). */
static int64_t vcpu_up(struct vmc_hcall *hc, struct vmc_vcpu *target)
{
    VMC_HANDLE(struct vmc_vcpu_up) in;
    vmc_handle(in, hc->a.args[2]);
    struct vmc_vcpu_up up;
    if (copy_from_guest(hc, &up, in, 1))
        return -VMC_EFAULT;
    if (hc->a.compat) {
        up.entry = (uint32_t)up.entry;
        up.stack = (uint32_t)up.stack;
        up.arg = (uint32_t)up.arg;
    }
    struct vmc_vm *vm = hc->vcpu->vm;
    int64_t ret = 0;
    pthread_mutex_lock(&vm->lock);
    if (target->state == VMC_VCPU_UP) {
        ret = -VMC_EBUSY;
        goto out;
    }
    /* Down and not running: its kvm_run is not in use, so its registers can be written from here. */
    struct kvm_run *run = target->run;
    vmc_x86_init_ap_state(vm, &hc->vcpu->run->s.regs.sregs, target->id, &up, &run->s.regs.regs,
                          &run->s.regs.sregs);
    run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    memset(&target->pending, 0, sizeof(target->pending));
    target->timer_deadline = 0;
    atomic_store(&target->down_req, false);
    int rc = vmc_vcpu_spawn_locked(target);
    if (rc < 0) {
        ret = -VMC_EAGAIN; /* no host thread: the guest may retry */
        goto out;
    }
    target->state = VMC_VCPU_UP;
    vm->nup++;
    vmc_vcpu_kick_locked(target); /* a thread waiting while down starts now */
out:
    pthread_mutex_unlock(&vm->lock);
    return ret;
}

int64_t vmc_hc_vcpu_op(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t cmd = hc->a.args[0], id = hc->a.args[1];
    if (cmd == VMC_VCPUOP_SELF)
        return hc->vcpu->id;
    if (cmd != VMC_VCPUOP_UP && cmd != VMC_VCPUOP_DOWN && cmd != VMC_VCPUOP_IS_UP)
        return -VMC_EINVAL;
    if (id >= vm->nvcpus)
        return -VMC_ENOENT;
    struct vmc_vcpu *target = &vm->vcpus[id];
    if (cmd == VMC_VCPUOP_UP)
        return vcpu_up(hc, target);
    if (target == hc->vcpu && cmd == VMC_VCPUOP_DOWN) {
        hc->vcpu->req.stop = VMC_STOP_DOWN;
        return 0;
    }
    /* A vCPU asked to go down stays up until its thread has left the guest: once is_up says 0, up works. */
    pthread_mutex_lock(&vm->lock);
    bool up = target->state == VMC_VCPU_UP;
    if (cmd == VMC_VCPUOP_DOWN && up && !atomic_load(&target->down_req)) {
        atomic_store(&target->down_req, true);
        vmc_vcpu_kick_locked(target);
    }
    pthread_mutex_unlock(&vm->lock);
    return cmd == VMC_VCPUOP_IS_UP ? up : 0;
}

int64_t vmc_hc_send_ipi(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t id = hc->a.args[0], vector = hc->a.args[1];
    if (id >= vm->nvcpus)
        return -VMC_ENOENT;
    if (!irq_vector_ok(vector))
        return -VMC_EINVAL;
    pthread_mutex_lock(&vm->lock);
    vmc_event_raise_irq_locked(&vm->vcpus[id], (uint8_t)vector);
    pthread_mutex_unlock(&vm->lock);
    return 0;
}

int64_t vmc_hc_set_timer(struct vmc_hcall *hc)
{
    struct vmc_vcpu *vcpu = hc->vcpu;
    struct vmc_vm *vm = vcpu->vm;
    uint64_t deadline = hc->a.args[0], vector = hc->a.args[1];
    if (hc->a.compat) { /* 32-bit callers: (deadline low, deadline high, vector) */
        deadline = (uint32_t)hc->a.args[0] | (hc->a.args[1] << 32);
        vector = hc->a.args[2];
    }
    if (deadline && !irq_vector_ok(vector))
        return -VMC_EINVAL;
    pthread_mutex_lock(&vm->lock);
    int rc = deadline ? vmc_timer_start_locked(vm) : 0;
    if (rc == 0) {
        vcpu->timer_deadline = deadline;
        vcpu->timer_vector = (uint8_t)vector;
        pthread_cond_signal(&vm->timer_cond);
    }
    pthread_mutex_unlock(&vm->lock);
    return rc ? -VMC_EAGAIN : 0;
}

/*
 * One thread per VM (started by the first set_timer) sleeps until the earliest vCPU deadline and raises
 * the interrupt as vmc_vcpu_inject would: a running vCPU is kicked out of KVM_RUN, a halted one woken.
 */
static void *timer_main(void *arg)
{
    struct vmc_vm *vm = arg;
    pthread_mutex_lock(&vm->lock);
    while (!vm->timer_quit) {
        uint64_t now = vmc_now_ns(), next = 0;
        for (uint32_t i = 0; i < vm->nvcpus; i++) {
            struct vmc_vcpu *v = &vm->vcpus[i];
            if (!v->timer_deadline)
                continue;
            if (v->timer_deadline <= now) {
                v->timer_deadline = 0;
                vmc_event_raise_irq_locked(v, v->timer_vector);
            } else if (!next || v->timer_deadline < next) {
                next = v->timer_deadline;
            }
        }
        if (next) {
            struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
            pthread_cond_timedwait(&vm->timer_cond, &vm->lock, &ts);
        } else {
            pthread_cond_wait(&vm->timer_cond, &vm->lock);
        }
    }
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}

int vmc_timer_start_locked(struct vmc_vm *vm)
{
    if (vm->timer_started)
        return 0;
    int e = pthread_create(&vm->timer_thread, NULL, timer_main, vm);
    if (e)
        return -e;
    vm->timer_started = true;
    return 0;
}

void vmc_timer_stop(struct vmc_vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    bool started = vm->timer_started;
    vm->timer_quit = true;
    pthread_cond_signal(&vm->timer_cond);
    pthread_mutex_unlock(&vm->lock);
    if (started)
        pthread_join(vm->timer_thread, NULL);
    vm->timer_started = false;
}
