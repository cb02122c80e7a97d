/* SPDX-License-Identifier: MIT */
/* The vCPU run loop: KVM_RUN, decode, dispatch; cancellation and timeouts by signal + immediate_exit. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * Cancellation protocol (the races are those Hyperlight documents):
 *   canceller: set vm->cancel, then (under vm->lock, only while the VM runs) signal the vCPU thread.
 *   vCPU:      check vm->cancel before every KVM_RUN; the signal handler sets run->immediate_exit.
 * A signal before the check is covered by the flag, one between the check and KVM_RUN by
 * immediate_exit, one during KVM_RUN by -EINTR. The lock keeps the thread alive while it is signalled.
 */
void vmc_vm_cancel(struct vmc_vm *vm)
{
    atomic_store(&vm->cancel, true);
    pthread_mutex_lock(&vm->lock);
    if (vm->running)
        pthread_kill(vm->thread, vm->kvm->kick_signal);
    pthread_mutex_unlock(&vm->lock);
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
}

static int run_loop(struct vmc_vcpu *vcpu, uint64_t deadline)
{
    struct vmc_vm *vm = vcpu->vm;
    struct kvm_run *run = vcpu->run;
    const bool timed = vm->cfg.stats;
    for (;;) {
        if (atomic_load_explicit(&vm->cancel, memory_order_acquire)) {
            atomic_store(&vm->cancel, false);
            vcpu->req.stop = VMC_STOP_CANCELLED;
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
            /* Kicked: a cancel (checked at the top), the timeout, or a stray signal (resume). */
            run->immediate_exit = 0;
            vm->exits[VMC_EXIT_EXTERNAL_INTR].count++;
            if (deadline && vmc_now_ns() >= deadline) {
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
                vm->exits[basic].total_ns += vmc_now_ns() - t0;
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

int vmc_vm_run(struct vmc_vm *vm, struct vmc_result *res)
{
    struct vmc_vcpu *vcpu = &vm->vcpu;
    memset(res, 0, sizeof(*res));
    if (!vm->loaded)
        return vmc_vm_fail(vm, -ENOEXEC, "no guest image loaded");
    if (vm->finished)
        return vmc_vm_fail(vm, -EINVAL, "the VM has already stopped for good");
    if (!vm->started) {
        /* The initial state rides in on the first KVM_RUN via sync regs: no GET/SET_(S)REGS ioctls. */
        vmc_x86_init_vcpu_state(vm, &vcpu->run->s.regs.regs, &vcpu->run->s.regs.sregs);
        vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
        vm->started = true;
    }
    memset(&vcpu->req, 0, sizeof(vcpu->req));

    pthread_mutex_lock(&vm->lock);
    vm->thread = pthread_self();
    vm->running = true;
    pthread_mutex_unlock(&vm->lock);
    vmc_kick_arm(vcpu->run);

    timer_t timer;
    bool have_timer = false;
    uint64_t deadline = 0;
    int rc = 0;
    if (vm->cfg.timeout_ns) {
        deadline = vmc_now_ns() + vm->cfg.timeout_ns;
        rc = arm_timeout(vm, &timer);
        have_timer = rc == 0;
    }
    if (rc == 0)
        rc = run_loop(vcpu, deadline);
    if (have_timer)
        timer_delete(timer);

    vmc_kick_arm(NULL);
    pthread_mutex_lock(&vm->lock);
    vm->running = false;
    pthread_mutex_unlock(&vm->lock);
    vcpu->run->immediate_exit = 0;
    vmc_console_flush(&vm->console);

    if (rc < 0) {
        vcpu->req.stop = VMC_STOP_ERROR;
        vm->finished = true;
        build_result(vcpu, res);
        return rc;
    }
    if (vcpu->req.stop == VMC_STOP_EXIT || vcpu->req.stop == VMC_STOP_CRASH)
        vm->finished = true;
    build_result(vcpu, res);
    return 0;
}
