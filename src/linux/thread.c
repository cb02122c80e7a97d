/* SPDX-License-Identifier: MIT */
/* The Linux personality's threads: clone onto another vCPU, exit, set_tid_address, futexes across vCPUs. */
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../arch/x86_64/layout.h"
#include "calls.h"

/* A thread is a vCPU: thread id = vCPU id + 1 (the main thread is 1, the process id). */
static uint64_t tid_of(const struct vmc_vcpu *vcpu)
{
    return vcpu->id + 1u;
}

int64_t vmc_lx_gettid(struct vmc_hcall *hc)
{
    return (int64_t)tid_of(hc->vcpu);
}

int64_t vmc_lx_set_tid_address(struct vmc_hcall *hc)
{
    vmc_lx(hc)->thread[hc->vcpu->id].clear_tid = hc->a.args[0];
    return (int64_t)tid_of(hc->vcpu);
}

/*
 * rseq: the area is registered and its cpu_id_start and cpu_id fields hold the thread's vCPU, which is
 * its CPU for good (a thread never moves). The VMM never stops a thread inside a critical section and
 * resumes it elsewhere in it, so no abort is ever due. Unregistering (flag 1) clears the fields.
 */
int64_t vmc_lx_rseq(struct vmc_hcall *hc)
{
    uint64_t area = hc->a.args[0], len = hc->a.args[1], flags = hc->a.args[2];
    struct vmc_lx_thread *t = &vmc_lx(hc)->thread[hc->vcpu->id];
    if (flags & ~1ull)
        return -EINVAL;
    if (flags & 1) {
        if (!t->rseq || t->rseq != area)
            return -EINVAL;
        t->rseq = 0;
        uint32_t none[2] = { 0, (uint32_t)-1 }; /* cpu_id_start 0, cpu_id RSEQ_CPU_ID_UNINITIALIZED */
        return vmc_hc_copy_to(hc, area, none, sizeof(none)) ? -EFAULT : 0;
    }
    if (len < 32 || (area & 31))
        return -EINVAL;
    if (t->rseq)
        return t->rseq == area ? -EBUSY : -EINVAL;
    uint32_t cpu[2] = { hc->vcpu->id, hc->vcpu->id };
    if (vmc_hc_copy_to(hc, area, cpu, sizeof(cpu)))
        return -EFAULT;
    t->rseq = area;
    return 0;
}

struct clone_ctx {
    struct vmc_vcpu *parent;
    uint64_t flags, stack, tls;
};

/* Runs under the scheduler's lock while the target is down: the child starts where the parent's
 * syscall returns, with RAX = 0, its own stack and TLS, its own TSS (vmc_x86_init_ap_state). */
static void prepare_child(struct vmc_vcpu *child, void *arg)
{
    const struct clone_ctx *c = arg;
    const struct kvm_regs *pr = vmc_vcpu_regs(c->parent);
    const struct kvm_sregs *ps = vmc_vcpu_sregs(c->parent);
    struct kvm_regs regs, dummy;
    struct kvm_sregs sregs, user;
    const struct vmc_vcpu_up up = { .entry = pr->rcx, .stack = c->stack };
    vmc_x86_init_ap_state(ps, child->id, &up, &dummy, &sregs);
    vmc_x86_init_vcpu_state(true, VMC_MODE_64, 0, &dummy, &user);
    sregs.cs = user.cs; /* the parent may be in the entry stub at CPL0 (VT-x): the child is at CPL3 */
    sregs.ss = user.ss;
    if (c->flags & CLONE_SETTLS)
        sregs.fs.base = c->tls;
    regs = *pr;
    regs.rax = 0;
    regs.rip = pr->rcx;
    regs.rsp = c->stack ? c->stack : pr->rsp;
    regs.rflags = (pr->r11 & ~((1ull << 16) | (1ull << 17))) | 2;
    vmc_vcpu_set_entry(child, &regs, &sregs);
    vmc_event_reset(child);
}

/* clone's wake check (the scheduler's lock held): a vCPU is free, or no thread is leaving one any more
 * (another clone took it: this one answers EAGAIN now rather than wait for nothing), or a signal came. */
static bool thread_gone(struct vmc_vcpu *vcpu)
{
    struct vmc_vm *vm = vcpu->vm;
    bool leaving = false;
    for (uint32_t i = 1; i < vm->nvcpus; i++) {
        if (!vmc_sched_vcpu_is_up_locked(&vm->vcpus[i]))
            return true;
        leaving |= atomic_load(&vm->lx->thread[i].exiting);
    }
    return !leaving || vmc_event_pending(vcpu);
}

/*
 * clone for threads only (what pthread_create asks: CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
 * CLONE_THREAD, with SYSVSEM, SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID): the child runs on a
 * vCPU that is down; the VM's vCPUs (--vcpus) are the thread limit (EAGAIN past it). A thread that
 * has run exit (its joiner may be back already) still holds its vCPU for a moment: when that is the only
 * one, clone waits for it as a continuation, so create-join-create never fails for want of a vCPU the
 * program has given back. A new process (fork, vfork, a clone without CLONE_THREAD) is ENOSYS: one
 * address space per VM.
 */
int64_t vmc_lx_clone(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t flags = hc->a.args[0], ptid = hc->a.args[2], ctid = hc->a.args[3];
    const uint64_t need = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    const uint64_t may = need | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                         CLONE_CHILD_CLEARTID | CLONE_DETACHED | 0xff /* exit signal */;
    if ((flags & need) != need)
        return -ENOSYS;
    if (flags & ~may)
        return -EINVAL;
    struct clone_ctx c = { hc->vcpu, flags, hc->a.args[1], hc->a.args[4] };
    bool leaving = false;
    for (uint32_t id = 1; id < vm->nvcpus; id++) {
        struct vmc_vcpu *child = &vm->vcpus[id];
        uint32_t tid = id + 1;
        if (vmc_sched_vcpu_is_up(child)) {
            leaving |= atomic_load(&lx->thread[id].exiting);
            continue;
        }
        /* The ids are in place before the child runs: it may read them at once. Both words are checked
         * before either is written. */
        if (((flags & CLONE_PARENT_SETTID) && !vmc_lx_writable(hc, ptid, sizeof(tid))) ||
            ((flags & CLONE_CHILD_SETTID) && !vmc_lx_writable(hc, ctid, sizeof(tid))))
            return -EFAULT;
        if (((flags & CLONE_PARENT_SETTID) && vmc_hc_copy_to(hc, ptid, &tid, sizeof(tid))) ||
            ((flags & CLONE_CHILD_SETTID) && vmc_hc_copy_to(hc, ctid, &tid, sizeof(tid))))
            return -EFAULT;
        lx->thread[id].clear_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
        lx->thread[id].waiting = false;
        lx->thread[id].rseq = 0;
        lx->thread[id].alt_sp = lx->thread[id].alt_size = 0; /* a new thread has no sigaltstack */
        lx->thread[id].sigreturned = lx->thread[id].polling = lx->thread[id].io_wait = false;
        atomic_store(&lx->thread[id].exiting, false);
        lx->thread[id].sigmask = lx->thread[hc->vcpu->id].sigmask;
        memcpy(lx->thread[id].name, lx->thread[hc->vcpu->id].name, sizeof(lx->thread[id].name));
        int rc = vmc_sched_vcpu_up(child, prepare_child, &c);
        if (rc == 0)
            return tid;
        if (rc != -EBUSY)
            return -EAGAIN;
    }
    if (!leaving || !vmc_hc_continue(hc))
        return -EAGAIN;
    vmc_act_wait(hc->act, thread_gone);
    return 0;
}

/* ---- futexes ---------------------------------------------------------------------------------------- */

static bool futex_woken(struct vmc_vcpu *vcpu)
{
    return vmc_event_pending(vcpu) ||
           atomic_load_explicit(&vcpu->vm->lx->thread[vcpu->id].woken, memory_order_acquire);
}

/* Wake up to n waiters of uaddr; requeue up to n2 of the rest onto uaddr2 (n2 < 0: none). */
static int64_t futex_wake(struct vmc_hcall *hc, uint64_t uaddr, uint64_t n, int64_t n2, uint64_t uaddr2)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_vm *vm = hc->vcpu->vm;
    int64_t woken = 0, moved = 0;
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        struct vmc_lx_thread *t = &lx->thread[i];
        if (!t->waiting || t->uaddr != uaddr || atomic_load(&t->woken))
            continue;
        if ((uint64_t)woken < n) {
            atomic_store_explicit(&t->woken, true, memory_order_release);
            woken++;
        } else if (n2 >= 0 && moved < n2) {
            t->uaddr = uaddr2;
            moved++;
        }
    }
    if (woken)
        vmc_sched_wake_blocked(vm);
    return woken + (n2 >= 0 ? moved : 0);
}

/* A deadline in monotonic nanoseconds from a futex timeout: relative for FUTEX_WAIT, absolute (on the
 * clock the op names) for FUTEX_WAIT_BITSET. 0: none. */
static int64_t deadline(struct vmc_hcall *hc, uint64_t uts, bool absolute, bool realtime, uint64_t *out)
{
    uint64_t ns;
    *out = 0;
    if (!uts)
        return 0;
    int64_t rc = vmc_lx_timeout(hc, uts, realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, absolute, &ns);
    if (rc < 0)
        return rc;
    if (__builtin_add_overflow(vmc_now_ns(), ns, out))
        *out = UINT64_MAX;
    if (*out == 0)
        *out = 1;
    return 0;
}

/*
 * FUTEX_WAIT: the value is compared under the personality's lock (every system call holds it), the
 * thread is queued and the call becomes a continuation: it blocks, and each time the vCPU wakes the same
 * call runs again, finding the thread queued: woken (0), past its deadline (ETIMEDOUT), or still
 * waiting (it blocks again). The thread is inside the call the whole time, as on Linux, so a requeue or
 * a wake can never reach a thread that has left it.
 */
static int64_t futex_wait(struct vmc_hcall *hc, uint64_t uaddr, uint32_t val, uint64_t uts, bool bitset,
                          bool realtime)
{
    struct vmc_lx_thread *t = &vmc_lx(hc)->thread[hc->vcpu->id];
    if (t->waiting) {
        bool done = atomic_load(&t->woken), late = t->deadline && vmc_now_ns() >= t->deadline;
        if (done || late || !vmc_hc_continue(hc)) {
            t->waiting = false;
            return done ? 0 : late ? -ETIMEDOUT : -EINTR;
        }
        vmc_act_wait(hc->act, futex_woken);
        hc->act->until = t->deadline;
        return 0;
    }
    uint32_t cur;
    if (uaddr & 3)
        return -EINVAL;
    if (vmc_hc_copy_from(hc, &cur, uaddr, sizeof(cur)))
        return -EFAULT;
    if (cur != val)
        return -EAGAIN;
    uint64_t until;
    int64_t rc = deadline(hc, uts, bitset, realtime, &until);
    if (rc < 0)
        return rc;
    if (hc->vcpu->vm->nvcpus == 1 && !until)
        return -EDEADLK; /* one thread: nobody could ever wake it */
    if (!vmc_hc_continue(hc))
        return -EINTR;
    t->uaddr = uaddr;
    t->deadline = until;
    atomic_store(&t->woken, false);
    t->waiting = true;
    vmc_act_wait(hc->act, futex_woken);
    hc->act->until = until;
    return 0;
}

int64_t vmc_lx_futex(struct vmc_hcall *hc)
{
    uint64_t uaddr = hc->a.args[0], op = hc->a.args[1], val = hc->a.args[2], uts = hc->a.args[3];
    uint64_t uaddr2 = hc->a.args[4], val3 = vmc_vcpu_regs(hc->vcpu)->r9;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
        return futex_wait(hc, uaddr, (uint32_t)val, uts, false, false);
    case FUTEX_WAIT_BITSET:
        return (uint32_t)val3 == 0 ? -EINVAL : futex_wait(hc, uaddr, (uint32_t)val, uts, true, realtime);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: /* bitsets are not tracked: a wider wake is a spurious one, which is allowed */
        return futex_wake(hc, uaddr, (uint32_t)val, -1, 0);
    case FUTEX_CMP_REQUEUE: {
        uint32_t cur;
        if (vmc_hc_copy_from(hc, &cur, uaddr, sizeof(cur)))
            return -EFAULT;
        if (cur != (uint32_t)val3)
            return -EAGAIN;
    }
        /* fall through */
    case FUTEX_REQUEUE:
        return futex_wake(hc, uaddr, (uint32_t)val, (int64_t)(uint32_t)uts, uaddr2);
    default:
        return -ENOSYS;
    }
}

/* exit of one thread: CHILD_CLEARTID's word is cleared and woken (pthread_join waits on it), the vCPU
 * goes down. The only thread left ends the process with its status, as Linux does. */
int64_t vmc_lx_exit(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_lx_thread *t = &lx->thread[hc->vcpu->id];
    uint32_t zero = 0;
    if (t->clear_tid && vmc_hc_copy_to(hc, t->clear_tid, &zero, sizeof(zero)) == 0)
        futex_wake(hc, t->clear_tid, 1, -1, 0);
    t->clear_tid = 0;
    if (vmc_lx_live_threads(hc->vcpu->vm) <= 1) {
        vmc_act_stop(hc->act, VMC_STOP_EXIT, (uint32_t)(hc->a.args[0] & 0xff));
    } else {
        atomic_store(&t->exiting, true);
        vmc_act_down(hc->act);
    }
    return 0;
}

int64_t vmc_lx_exit_group(struct vmc_hcall *hc)
{
    vmc_act_stop(hc->act, VMC_STOP_EXIT, (uint32_t)(hc->a.args[0] & 0xff));
    return 0;
}
