/* SPDX-License-Identifier: MIT */
/* Scheduling: vCPU threads and states, kicks, blocking waits, the run's timeout, and stopping a run. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"

/*
 * Cancellation protocol (the races are those Hyperlight documents):
 *   canceller: set sched.cancel, then (under the lock) kick every vCPU thread: a signal for one that may
 *              be in KVM_RUN, a condition-variable wakeup for one blocked in the VMM.
 *   vCPU:      check sched.cancel before every KVM_RUN and before every wait; the signal handler sets
 *              run->immediate_exit (kvm.c).
 * A signal before the check is covered by the flag, one between the check and KVM_RUN by
 * immediate_exit, one during KVM_RUN by -EINTR. The lock keeps the threads alive while they are
 * signalled. The first vCPU to see the flag consumes it and stops the VM; the others follow `stopping`.
 */

int vmc_sched_init(struct vmc_vm *vm)
{
    memset(&vm->sched, 0, sizeof(vm->sched));
    int rc = -pthread_mutex_init(&vm->sched.lock, NULL);
    for (uint32_t i = 0; i < vm->nvcpus && rc == 0; i++) {
        struct vmc_vcpu_sched *s = &vm->vcpus[i].sched;
        memset(s, 0, sizeof(*s));
        s->last_cpu = -1;
        rc = vmc_cond_init(&s->cond);
    }
    return rc;
}

void vmc_sched_destroy(struct vmc_vm *vm)
{
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        pthread_cond_destroy(&vm->vcpus[i].sched.cond);
    pthread_mutex_destroy(&vm->sched.lock);
}

static void kick_locked(struct vmc_vcpu *vcpu)
{
    struct vmc_vcpu_sched *s = &vcpu->sched;
    if (s->blocked)
        pthread_cond_signal(&s->cond);
    else if (s->alive && !pthread_equal(s->thread, pthread_self()))
        pthread_kill(s->thread, vcpu->vm->kvm->kick_signal); /* its own thread checks before entry */
}

void vmc_sched_kick(struct vmc_vcpu *vcpu)
{
    pthread_mutex_lock(&vcpu->vm->sched.lock);
    kick_locked(vcpu);
    pthread_mutex_unlock(&vcpu->vm->sched.lock);
}

void vmc_sched_cancel(struct vmc_vm *vm, int rc)
{
    if (rc)
        atomic_store(&vm->sched.cancel_rc, rc);
    atomic_store(&vm->sched.cancel, true);
    vmc_sched_wake_blocked(vm);
}

void vmc_sched_wake_blocked(struct vmc_vm *vm)
{
    pthread_mutex_lock(&vm->sched.lock);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        kick_locked(&vm->vcpus[i]);
    pthread_mutex_unlock(&vm->sched.lock);
}

int vmc_sched_cancel_rc(struct vmc_vm *vm)
{
    return atomic_load(&vm->sched.cancel_rc);
}

bool vmc_sched_running(struct vmc_vm *vm)
{
    pthread_mutex_lock(&vm->sched.lock);
    bool r = vm->sched.running;
    pthread_mutex_unlock(&vm->sched.lock);
    return r;
}

bool vmc_sched_lock_vcpu(struct vmc_vcpu *vcpu)
{
    struct vmc_vm *vm = vcpu->vm;
    pthread_mutex_lock(&vm->sched.lock);
    if (!vm->sched.running || (vcpu->sched.alive && pthread_equal(vcpu->sched.thread, pthread_self())))
        return true;
    pthread_mutex_unlock(&vm->sched.lock);
    return false;
}

void vmc_sched_unlock(struct vmc_vm *vm)
{
    pthread_mutex_unlock(&vm->sched.lock);
}

/* The first vCPU to stop the VM is the one the result describes; every other vCPU is told to leave. */
static void stop_locked(struct vmc_vm *vm, struct vmc_vcpu *vcpu)
{
    if (atomic_load(&vm->sched.stopping))
        return;
    vm->sched.stopper = vcpu;
    atomic_store(&vm->sched.stopping, true);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (&vm->vcpus[i] != vcpu)
            kick_locked(&vm->vcpus[i]);
}

void vmc_sched_stop(struct vmc_vcpu *vcpu)
{
    pthread_mutex_lock(&vcpu->vm->sched.lock);
    stop_locked(vcpu->vm, vcpu);
    pthread_mutex_unlock(&vcpu->vm->sched.lock);
}

/* Wait on the vCPU's condition variable until `wake` (0 = no limit); the lock held. */
static void wait_locked(struct vmc_vcpu *vcpu, uint64_t wake)
{
    struct vmc_vcpu_sched *s = &vcpu->sched;
    s->blocked = true;
    if (wake) {
        struct timespec ts = { (time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull) };
        pthread_cond_timedwait(&s->cond, &vcpu->vm->sched.lock, &ts);
    } else {
        pthread_cond_wait(&s->cond, &vcpu->vm->sched.lock);
    }
    s->blocked = false;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

bool vmc_sched_timed_out(struct vmc_vm *vm)
{
    return vm->sched.deadline && vmc_now_ns() >= vm->sched.deadline;
}

static enum vmc_wake block_locked(struct vmc_vcpu *vcpu, uint64_t until, bool (*woken)(struct vmc_vcpu *))
{
    struct vmc_vm *vm = vcpu->vm;
    for (;;) {
        if (woken(vcpu))
            return VMC_WAKE_EVENT;
        if (atomic_load(&vm->sched.stopping) || atomic_load(&vm->sched.cancel) ||
            atomic_load(&vcpu->sched.down_req))
            return VMC_WAKE_STOP;
        uint64_t now = vmc_now_ns();
        if (vm->sched.deadline && now >= vm->sched.deadline)
            return VMC_WAKE_TIMEOUT;
        if (until && now >= until)
            return VMC_WAKE_UNTIL;
        wait_locked(vcpu, earliest(until, vm->sched.deadline));
    }
}

enum vmc_wake vmc_sched_block(struct vmc_vcpu *vcpu, uint64_t until, bool halt,
                              bool (*woken)(struct vmc_vcpu *))
{
    struct vmc_vm *vm = vcpu->vm;
    uint64_t t0 = halt ? vmc_now_ns() : 0;
    pthread_mutex_lock(&vm->sched.lock);
    vcpu->sched.halted = halt;
    enum vmc_wake why = block_locked(vcpu, until, woken);
    vcpu->sched.halted = false;
    pthread_mutex_unlock(&vm->sched.lock);
    if (halt) {
        STAT_ADD(vcpu->sched.halts, 1);
        STAT_ADD(vcpu->sched.halt_ns, vmc_now_ns() - t0);
    }
    return why;
}

enum vmc_check vmc_sched_check(struct vmc_vcpu *vcpu)
{
    struct vmc_sched *s = &vcpu->vm->sched;
    if (atomic_load_explicit(&s->cancel, memory_order_acquire) && atomic_exchange(&s->cancel, false))
        return atomic_load(&s->cancel_rc) ? VMC_CHECK_FAILED : VMC_CHECK_CANCELLED;
    if (atomic_load_explicit(&s->stopping, memory_order_acquire))
        return VMC_CHECK_STOPPING;
    if (atomic_load_explicit(&vcpu->sched.down_req, memory_order_acquire)) {
        atomic_store(&vcpu->sched.down_req, false);
        return VMC_CHECK_DOWN;
    }
    return VMC_CHECK_RUN;
}

static int spawn_locked(struct vmc_vcpu *vcpu)
{
    struct vmc_sched *s = &vcpu->vm->sched;
    if (vcpu->sched.has_thread || !s->running || atomic_load(&s->stopping))
        return 0; /* an existing thread picks the new state up; a stopped run spawns it next time */
    int e = pthread_create(&vcpu->sched.thread, NULL, s->thread_fn, vcpu);
    if (e)
        return -e;
    vcpu->sched.has_thread = true;
    return 0;
}

/* The run's timeout: a POSIX timer signals the calling (boot vCPU's) thread at the deadline; every wait
 * also ends there. */
static int arm_timeout(struct vmc_vm *vm, timer_t *timer)
{
    struct sigevent sev = { 0 };
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = vm->kvm->kick_signal;
    sev._sigev_un._tid = gettid(); /* glibc spells sigev_notify_thread_id this way */
    if (timer_create(CLOCK_MONOTONIC, &sev, timer) != 0)
        return vmc_vm_fail(vm, -errno, "timer_create: %s", strerror(errno));
    struct itimerspec its = { 0 };
    its.it_value.tv_sec = (time_t)(vm->cfg.timeout_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(vm->cfg.timeout_ns % 1000000000ull);
    if (timer_settime(*timer, 0, &its, NULL) != 0) {
        int e = errno;
        timer_delete(*timer);
        return vmc_vm_fail(vm, -e, "timer_settime: %s", strerror(e));
    }
    return 0;
}

int vmc_sched_run_begin(struct vmc_vm *vm, void *(*thread_fn)(void *))
{
    struct vmc_sched *s = &vm->sched;
    s->started = vmc_now_ns();
    s->deadline = vm->cfg.timeout_ns ? s->started + vm->cfg.timeout_ns : 0;
    int rc = 0;
    if (vm->cfg.timeout_ns) {
        rc = arm_timeout(vm, &vm->sched.timeout);
        vm->sched.timeout_armed = rc == 0;
    }
    pthread_mutex_lock(&s->lock);
    s->running = true;
    atomic_store(&s->stopping, false);
    s->stopper = NULL;
    s->thread_fn = thread_fn;
    /* vCPUs left up by a cancelled or timed-out run get their threads back. */
    for (uint32_t i = 1; i < vm->nvcpus && rc == 0; i++) {
        if (vm->vcpus[i].sched.state != VMC_VCPU_UP)
            continue;
        rc = spawn_locked(&vm->vcpus[i]);
        if (rc < 0)
            vmc_vm_fail(vm, rc, "cannot start the thread of vCPU %u: %s", i, strerror(-rc));
    }
    if (rc < 0)
        stop_locked(vm, &vm->vcpus[0]);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

struct vmc_vcpu *vmc_sched_run_end(struct vmc_vm *vm)
{
    /* sched.stopping is set and no thread is started once it is: every thread to join exists now. */
    for (uint32_t i = 1; i < vm->nvcpus; i++) {
        struct vmc_vcpu_sched *s = &vm->vcpus[i].sched;
        if (s->has_thread) {
            pthread_join(s->thread, NULL);
            s->has_thread = false;
        }
    }
    if (vm->sched.timeout_armed)
        timer_delete(vm->sched.timeout);
    vm->sched.timeout_armed = false;
    pthread_mutex_lock(&vm->sched.lock);
    vm->sched.running = false;
    struct vmc_vcpu *stopper = vm->sched.stopper ? vm->sched.stopper : &vm->vcpus[0];
    pthread_mutex_unlock(&vm->sched.lock);
    return stopper;
}

void vmc_sched_enter(struct vmc_vcpu *vcpu)
{
    vmc_kick_arm(vcpu->run);
    pthread_mutex_lock(&vcpu->vm->sched.lock);
    vcpu->sched.thread = pthread_self();
    vcpu->sched.tid = gettid();
    vcpu->sched.alive = true;
    pthread_mutex_unlock(&vcpu->vm->sched.lock);
}

bool vmc_sched_wait_up(struct vmc_vcpu *vcpu, enum vmc_stop *stop)
{
    struct vmc_vm *vm = vcpu->vm;
    struct vmc_sched *s = &vm->sched;
    *stop = VMC_STOP_NONE;
    pthread_mutex_lock(&s->lock);
    while (vcpu->sched.state == VMC_VCPU_DOWN && !atomic_load(&s->stopping)) {
        if (atomic_exchange(&s->cancel, false)) {
            *stop = atomic_load(&s->cancel_rc) ? VMC_STOP_ERROR : VMC_STOP_CANCELLED;
            break;
        }
        if (s->deadline && vmc_now_ns() >= s->deadline) {
            *stop = VMC_STOP_TIMEOUT;
            break;
        }
        wait_locked(vcpu, s->deadline);
    }
    bool run = *stop == VMC_STOP_NONE && !atomic_load(&s->stopping);
    if (run)
        vcpu->sched.runs++;
    pthread_mutex_unlock(&s->lock);
    return run;
}

bool vmc_sched_went_down(struct vmc_vcpu *vcpu)
{
    struct vmc_sched *s = &vcpu->vm->sched;
    pthread_mutex_lock(&s->lock);
    vcpu->sched.state = VMC_VCPU_DOWN;
    vcpu->sched.halted = false;
    bool last = --s->nup == 0;
    for (uint32_t i = 0; i < vcpu->vm->nvcpus; i++)
        if (vcpu->vm->vcpus[i].sched.blocked)
            pthread_cond_signal(&vcpu->vm->vcpus[i].sched.cond);
    pthread_mutex_unlock(&s->lock);
    return last;
}

void vmc_sched_leave(struct vmc_vcpu *vcpu)
{
    int cpu = sched_getcpu();
    pthread_mutex_lock(&vcpu->vm->sched.lock);
    vcpu->sched.alive = false;
    vcpu->sched.last_cpu = cpu;
    pthread_mutex_unlock(&vcpu->vm->sched.lock);
    vmc_kick_arm(NULL);
}

int vmc_sched_vcpu_up(struct vmc_vcpu *target, void (*prepare)(struct vmc_vcpu *, void *), void *arg)
{
    struct vmc_sched *s = &target->vm->sched;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (target->sched.state == VMC_VCPU_UP) {
        rc = -EBUSY;
        goto out;
    }
    /* Down and not running: its kvm_run is not in use, so its state can be written from here. */
    prepare(target, arg);
    atomic_store(&target->sched.down_req, false);
    if (spawn_locked(target) < 0) {
        rc = -EAGAIN; /* no host thread: the guest may retry */
        goto out;
    }
    target->sched.state = VMC_VCPU_UP;
    s->nup++;
    kick_locked(target); /* a thread waiting while down starts now */
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void vmc_sched_vcpu_down(struct vmc_vcpu *target)
{
    pthread_mutex_lock(&target->vm->sched.lock);
    if (target->sched.state == VMC_VCPU_UP && !atomic_load(&target->sched.down_req)) {
        atomic_store(&target->sched.down_req, true);
        kick_locked(target);
    }
    pthread_mutex_unlock(&target->vm->sched.lock);
}

bool vmc_sched_vcpu_is_up_locked(const struct vmc_vcpu *target)
{
    return target->sched.state == VMC_VCPU_UP;
}

bool vmc_sched_vcpu_is_up(struct vmc_vcpu *target)
{
    pthread_mutex_lock(&target->vm->sched.lock);
    bool up = vmc_sched_vcpu_is_up_locked(target);
    pthread_mutex_unlock(&target->vm->sched.lock);
    return up;
}

void vmc_sched_boot_up(struct vmc_vcpu *vcpu)
{
    pthread_mutex_lock(&vcpu->vm->sched.lock);
    if (vcpu->sched.state != VMC_VCPU_UP) {
        vcpu->sched.state = VMC_VCPU_UP;
        vcpu->vm->sched.nup++;
    }
    pthread_mutex_unlock(&vcpu->vm->sched.lock);
}

uint32_t vmc_sched_activity(struct vmc_vcpu *vcpu, bool shutdown)
{
    if (shutdown)
        return VMC_ACTIVITY_SHUTDOWN;
    if (vcpu->sched.state == VMC_VCPU_DOWN)
        return VMC_ACTIVITY_WAIT_SIPI;
    return vcpu->sched.halted ? VMC_ACTIVITY_HLT : VMC_ACTIVITY_ACTIVE;
}
