/* SPDX-License-Identifier: MIT */
/* The vCPU run loop: KVM_RUN, decode, dispatch; cancellation and timeouts by signal + immediate_exit. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * Cancellation protocol (the races are those Hyperlight documents):
 *   canceller: set vm->cancel, then (under vm->lock) kick every vCPU thread: a signal for one that may
 *              be in KVM_RUN, a condition-variable wakeup for one blocked in the VMM.
 *   vCPU:      check vm->cancel before every KVM_RUN and before every wait; the signal handler sets
 *              run->immediate_exit.
 * A signal before the check is covered by the flag, one between the check and KVM_RUN by
 * immediate_exit, one during KVM_RUN by -EINTR. The lock keeps the threads alive while they are
 * signalled. The first vCPU to see the flag consumes it and stops the VM; the others follow `stopping`.
 */
void vmc_vm_cancel(struct vmc_vm *vm)
{
    atomic_store(&vm->cancel, true);
    pthread_mutex_lock(&vm->lock);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        vmc_vcpu_kick_locked(&vm->vcpus[i]);
    pthread_mutex_unlock(&vm->lock);
}

void vmc_vcpu_kick_locked(struct vmc_vcpu *vcpu)
{
    if (vcpu->blocked)
        pthread_cond_signal(&vcpu->cond);
    else if (vcpu->alive && !pthread_equal(vcpu->thread, pthread_self()))
        pthread_kill(vcpu->thread, vcpu->vm->kvm->kick_signal); /* its own thread checks before entry */
}

/* The first vCPU to stop the VM is the one the result describes; every other vCPU is told to leave. */
static void vm_stop_locked(struct vmc_vm *vm, struct vmc_vcpu *vcpu)
{
    if (atomic_load(&vm->stopping))
        return;
    vm->stopper = vcpu;
    atomic_store(&vm->stopping, true);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (&vm->vcpus[i] != vcpu)
            vmc_vcpu_kick_locked(&vm->vcpus[i]);
}

static void deadline_ts(uint64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* Wait on the vCPU's condition variable until `wake` (0 = no limit); vm->lock held. */
static void wait_locked(struct vmc_vcpu *vcpu, uint64_t wake)
{
    vcpu->blocked = true;
    if (wake) {
        struct timespec ts;
        deadline_ts(wake, &ts);
        pthread_cond_timedwait(&vcpu->cond, &vcpu->vm->lock, &ts);
    } else {
        pthread_cond_wait(&vcpu->cond, &vcpu->vm->lock);
    }
    vcpu->blocked = false;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

bool vmc_vcpu_block(struct vmc_vcpu *vcpu, uint64_t until, bool halt)
{
    struct vmc_vm *vm = vcpu->vm;
    bool pending;
    uint64_t t0 = halt ? vmc_now_ns() : 0;
    pthread_mutex_lock(&vm->lock);
    vcpu->halted = halt;
    for (;;) {
        pending = vmc_event_irq_pending_locked(vcpu);
        if (pending || atomic_load(&vm->stopping) || atomic_load(&vm->cancel) || atomic_load(&vcpu->down_req))
            break;
        uint64_t now = vmc_now_ns();
        if (vm->deadline && now >= vm->deadline) {
            vcpu->req.stop = VMC_STOP_TIMEOUT;
            break;
        }
        if (until && now >= until)
            break;
        wait_locked(vcpu, earliest(until, vm->deadline));
    }
    vcpu->halted = false;
    pthread_mutex_unlock(&vm->lock);
    if (halt) {
        vcpu->halts++;
        vcpu->halt_ns += vmc_now_ns() - t0;
    }
    return pending;
}

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

static void fill_insn_bytes(struct vmc_vm *vm, const struct kvm_run *run, struct vmc_result *res)
{
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR && res->exit.insn_len) {
        memcpy(res->insn, run->emulation_failure.insn_bytes, res->exit.insn_len);
        res->insn_len = (uint8_t)res->exit.insn_len;
        return;
    }
    /* KVM did not say: fetch through the guest's own page tables, stopping at the first bad page. */
    uint64_t rip = res->regs.rip;
    for (unsigned i = 0; i < 15; i++) {
        if (vmc_gva_read(&vm->mem, res->regs.cr3, rip + i, 0, &res->insn[i], 1) != 0)
            break;
        res->insn_len = (uint8_t)(i + 1);
    }
}

static const char *internal_suberror_name(uint64_t sub)
{
    switch (sub) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "emulation failure";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "simultaneous exceptions";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "event delivery failed";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "unexpected exit reason";
    default:
        return "unknown suberror";
    }
}

static void build_result(struct vmc_vcpu *vcpu, struct vmc_result *res)
{
    struct vmc_vm *vm = vcpu->vm;
    const struct vmc_stop_req *req = &vcpu->req;
    const struct kvm_run *run = vcpu->run;
    memset(res, 0, sizeof(*res));
    res->stop = req->stop;
    res->status = req->status;
    res->crash = req->crash;
    res->vcpu = vcpu->id;
    res->exit = vcpu->exit;
    vmc_regs_from_kvm(&res->regs, &run->s.regs.regs, &run->s.regs.sregs);
    if (req->frame_valid) {
        res->regs.rip = req->rip;
        res->regs.rsp = req->rsp;
        res->regs.rflags = req->rflags;
        res->regs.cs = req->cs;
        res->regs.ss = req->ss;
        res->regs.cpl = req->cs & 3;
    }
    res->vector = req->vector;
    res->has_error_code = req->has_error_code;
    res->error_code = req->error_code;

    char *sum = res->summary;
    size_t len = sizeof(res->summary);
    uint64_t rip = res->regs.rip;
    switch (res->stop) {
    case VMC_STOP_EXIT:
        snprintf(sum, len, "guest exited with status %" PRIu32, res->status);
        break;
    case VMC_STOP_TIMEOUT:
        snprintf(sum, len, "guest timed out after %.3f s at rip=0x%" PRIx64, vm->cfg.timeout_ns / 1e9, rip);
        break;
    case VMC_STOP_CANCELLED:
        snprintf(sum, len, "guest cancelled at rip=0x%" PRIx64, rip);
        break;
    case VMC_STOP_ERROR:
        snprintf(sum, len, "VMM error: %.170s", vm->err);
        break;
    case VMC_STOP_CRASH:
        switch (res->crash) {
        case VMC_CRASH_EXCEPTION:
            vmc_describe_exception(sum, len, res->vector, res->has_error_code, res->error_code, rip,
                                   res->regs.cr2);
            break;
        case VMC_CRASH_TRIPLE_FAULT:
            snprintf(sum, len, "guest triple fault (shutdown) at rip=0x%" PRIx64, rip);
            break;
        case VMC_CRASH_FAIL_ENTRY:
            snprintf(sum, len, "VM entry failed (hardware reason 0x%" PRIx64 ") at rip=0x%" PRIx64,
                     res->exit.hw_reason, rip);
            break;
        case VMC_CRASH_INTERNAL_ERROR:
            fill_insn_bytes(vm, run, res);
            snprintf(sum, len, "KVM internal error: %s (suberror %" PRIu64 ") at rip=0x%" PRIx64,
                     internal_suberror_name(res->exit.qualification), res->exit.qualification, rip);
            break;
        case VMC_CRASH_GUEST:
            snprintf(sum, len, "guest reported a crash (status %" PRIu32 ") at rip=0x%" PRIx64, res->status,
                     rip);
            break;
        default:
            snprintf(sum, len, "unhandled exit %s (KVM exit %" PRIu32 ") at rip=0x%" PRIx64,
                     vmc_exit_reason_name(res->exit.reason), res->exit.kvm_reason, rip);
            break;
        }
        break;
    case VMC_STOP_NONE:
        break;
    }
    if (vm->nvcpus > 1 && res->stop != VMC_STOP_NONE) {
        char tmp[sizeof(res->summary)];
        int k = snprintf(tmp, sizeof(tmp), "vCPU %" PRIu32 ": ", vcpu->id);
        snprintf(tmp + k, sizeof(tmp) - (size_t)k, "%.*s", (int)(sizeof(tmp) - (size_t)k - 1), sum);
        memcpy(sum, tmp, sizeof(tmp));
    }
}

static int run_loop(struct vmc_vcpu *vcpu)
{
    struct vmc_vm *vm = vcpu->vm;
    struct kvm_run *run = vcpu->run;
    const bool timed = vm->cfg.stats;
    for (;;) {
        if (atomic_load_explicit(&vm->cancel, memory_order_acquire) && atomic_exchange(&vm->cancel, false)) {
            vcpu->req.stop = VMC_STOP_CANCELLED;
            return 0;
        }
        if (atomic_load_explicit(&vm->stopping, memory_order_acquire))
            return 0; /* another vCPU ended the VM */
        if (atomic_load_explicit(&vcpu->down_req, memory_order_acquire)) {
            atomic_store(&vcpu->down_req, false);
            vcpu->req.stop = VMC_STOP_DOWN;
            return 0;
        }
        int rc = vmc_event_deliver(vcpu);
        if (rc < 0)
            return rc;
        rc = ioctl(vcpu->fd, KVM_RUN, 0);
        if (rc < 0) {
            int e = errno;
            if (e != EINTR && e != EAGAIN)
                return vmc_vm_fail(vm, -e, "KVM_RUN: %s", strerror(e));
            /* Kicked: a cancel, stop or event (checked at the top), the timeout, or a stray signal. */
            run->immediate_exit = 0;
            __atomic_fetch_add(&vm->exits[VMC_EXIT_EXTERNAL_INTR].count, 1, __ATOMIC_RELAXED);
            if (vm->deadline && vmc_now_ns() >= vm->deadline) {
                vcpu->req.stop = VMC_STOP_TIMEOUT;
                return 0;
            }
            continue;
        }
        vmc_exit_decode(run, &vcpu->exit);
        uint64_t t0 = timed ? vmc_now_ns() : 0;
        rc = vmc_exit_dispatch(vcpu, &vcpu->exit);
        if (timed) {
            uint32_t basic = VMC_EXIT_BASIC(vcpu->exit.reason);
            if (basic < VMC_EXIT_REASON_MAX)
                __atomic_fetch_add(&vm->exits[basic].total_ns, vmc_now_ns() - t0, __ATOMIC_RELAXED);
        }
        if (rc < 0) {
            if (!vm->err[0])
                vmc_vm_fail(vm, rc, "exit handler failed: %s", strerror(-rc));
            return rc;
        }
        if (vcpu->req.stop != VMC_STOP_NONE)
            return 0;
    }
}

/*
 * One vCPU's life within a vmc_vm_run, on its own thread (vCPU 0: the caller's). A vCPU that goes down
 * waits here to be brought up again; the thread leaves when the VM stops.
 */
static void vcpu_main(struct vmc_vcpu *vcpu)
{
    struct vmc_vm *vm = vcpu->vm;
    vmc_kick_arm(vcpu->run);
    pthread_mutex_lock(&vm->lock);
    vcpu->thread = pthread_self();
    vcpu->tid = gettid();
    vcpu->alive = true;
    for (;;) {
        while (vcpu->state == VMC_VCPU_DOWN && !atomic_load(&vm->stopping)) {
            if (atomic_exchange(&vm->cancel, false)) {
                vcpu->req.stop = VMC_STOP_CANCELLED;
                vm_stop_locked(vm, vcpu);
                break;
            }
            if (vm->deadline && vmc_now_ns() >= vm->deadline) {
                vcpu->req.stop = VMC_STOP_TIMEOUT;
                vm_stop_locked(vm, vcpu);
                break;
            }
            wait_locked(vcpu, vm->deadline);
        }
        if (atomic_load(&vm->stopping))
            break;
        memset(&vcpu->req, 0, sizeof(vcpu->req));
        vcpu->runs++;
        pthread_mutex_unlock(&vm->lock);
        int rc = run_loop(vcpu);
        int cpu = sched_getcpu();
        pthread_mutex_lock(&vm->lock);
        vcpu->last_cpu = cpu;
        if (rc < 0) {
            vcpu->rc = rc;
            vcpu->req.stop = VMC_STOP_ERROR;
        }
        if (vcpu->req.stop == VMC_STOP_DOWN) {
            /* This vCPU is done until brought up again; the last one down ends the VM. */
            vcpu->state = VMC_VCPU_DOWN;
            vcpu->halted = false;
            if (--vm->nup == 0) {
                vcpu->req.stop = VMC_STOP_EXIT;
                vcpu->req.status = 0;
                vm_stop_locked(vm, vcpu);
            }
            continue;
        }
        if (vcpu->req.stop != VMC_STOP_NONE)
            vm_stop_locked(vm, vcpu);
        break;
    }
    vcpu->alive = false;
    pthread_mutex_unlock(&vm->lock);
    vmc_kick_arm(NULL);
    vcpu->run->immediate_exit = 0;
}

static void *vcpu_thread(void *arg)
{
    vcpu_main(arg);
    return NULL;
}

int vmc_vcpu_spawn_locked(struct vmc_vcpu *vcpu)
{
    if (vcpu->has_thread || !vcpu->vm->running || atomic_load(&vcpu->vm->stopping))
        return 0; /* an existing thread picks the new state up; a stopped run spawns it next time */
    int e = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
    if (e)
        return -e;
    vcpu->has_thread = true;
    return 0;
}

int vmc_vm_run(struct vmc_vm *vm, struct vmc_result *res)
{
    struct vmc_vcpu *boot = &vm->vcpus[0];
    memset(res, 0, sizeof(*res));
    if (!vm->loaded)
        return vmc_vm_fail(vm, -ENOEXEC, "no guest image loaded");
    if (vm->finished)
        return vmc_vm_fail(vm, -EINVAL, "the VM has already stopped for good");
    if (vm->running)
        return vmc_vm_fail(vm, -EBUSY, "the VM is already running");
    if (!vm->started) {
        int rc = vmc_vm_start(vm);
        if (rc < 0)
            return rc;
        vm->started = true;
    }

    timer_t timer;
    bool have_timer = false;
    int rc = 0;
    vm->deadline = 0;
    if (vm->cfg.timeout_ns) {
        vm->deadline = vmc_now_ns() + vm->cfg.timeout_ns;
        rc = arm_timeout(vm, &timer);
        have_timer = rc == 0;
    }
    pthread_mutex_lock(&vm->lock);
    vm->running = true;
    atomic_store(&vm->stopping, false);
    vm->stopper = NULL;
    /* vCPUs left up by a cancelled or timed-out run get their threads back. */
    for (uint32_t i = 1; i < vm->nvcpus && rc == 0; i++) {
        if (vm->vcpus[i].state != VMC_VCPU_UP)
            continue;
        rc = vmc_vcpu_spawn_locked(&vm->vcpus[i]);
        if (rc < 0) {
            vmc_vm_fail(vm, rc, "cannot start the thread of vCPU %u: %s", i, strerror(-rc));
            boot->rc = rc;
            boot->req.stop = VMC_STOP_ERROR;
            vm_stop_locked(vm, boot);
        }
    }
    pthread_mutex_unlock(&vm->lock);
    if (rc == 0)
        vcpu_main(boot);
    else if (!vm->stopper) {
        boot->rc = rc;
        boot->req.stop = VMC_STOP_ERROR;
        vm->stopper = boot;
    }
    /* vm->stopping is set and no thread is started once it is: every thread to join exists now. */
    for (uint32_t i = 1; i < vm->nvcpus; i++) {
        if (vm->vcpus[i].has_thread) {
            pthread_join(vm->vcpus[i].thread, NULL);
            vm->vcpus[i].has_thread = false;
        }
    }
    if (have_timer)
        timer_delete(timer);
    pthread_mutex_lock(&vm->lock);
    vm->running = false;
    pthread_mutex_unlock(&vm->lock);
    vmc_console_flush(&vm->console);

    struct vmc_vcpu *stopper = vm->stopper ? vm->stopper : boot;
    build_result(stopper, res);
    if (res->stop == VMC_STOP_ERROR) {
        vm->finished = true;
        return stopper->rc ? stopper->rc : -EIO;
    }
    if (res->stop == VMC_STOP_EXIT || res->stop == VMC_STOP_CRASH)
        vm->finished = true;
    return 0;
}
