/* SPDX-License-Identifier: MIT */
/* The Linux personality's process calls: identity, TLS, limits, time, randomness, signals, exit. */
#include <asm/prctl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>

#include "calls.h"

int64_t vmc_lx_zero(struct vmc_hcall *hc)
{
    (void)hc;
    return 0;
}

/* getpid, gettid: the program is process 1, its only thread 1. */
int64_t vmc_lx_one(struct vmc_hcall *hc)
{
    (void)hc;
    return 1;
}

/* FS and GS bases: the TLS pointer C libraries set before main (sync regs: no ioctl). */
int64_t vmc_lx_arch_prctl(struct vmc_hcall *hc)
{
    struct kvm_sregs *s = vmc_vcpu_sregs(hc->vcpu);
    uint64_t code = hc->a.args[0], addr = hc->a.args[1];
    switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
        if (addr >= (1ull << 47))
            return -EPERM; /* not canonical in the lower half */
        (code == ARCH_SET_FS ? &s->fs : &s->gs)->base = addr;
        vmc_vcpu_dirty(hc->vcpu, KVM_SYNC_X86_SREGS);
        return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
        uint64_t v = code == ARCH_GET_FS ? s->fs.base : s->gs.base;
        return vmc_hc_copy_to(hc, addr, &v, sizeof(v)) ? -EFAULT : 0;
    }
    default:
        return -EINVAL;
    }
}

/* The limits as the program sees them: the stack is its 8 MiB, descriptors VMC_LX_FD_MAX, memory the
 * VM's RAM; they cannot be raised (the VM is the limit). */
int64_t vmc_lx_prlimit64(struct vmc_hcall *hc)
{
    uint64_t pid = hc->a.args[0], res = hc->a.args[1], newp = hc->a.args[2], oldp = hc->a.args[3];
    if (pid != 0 && pid != 1)
        return -ESRCH;
    if (res >= RLIM_NLIMITS)
        return -EINVAL;
    struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
    if (res == RLIMIT_STACK)
        r.rlim_cur = r.rlim_max = VMC_LX_STACK;
    else if (res == RLIMIT_NOFILE)
        r.rlim_cur = r.rlim_max = VMC_LX_FD_MAX;
    else if (res == RLIMIT_AS || res == RLIMIT_DATA)
        r.rlim_cur = r.rlim_max = hc->vcpu->vm->mem.size;
    else if (res == RLIMIT_CORE)
        r.rlim_cur = r.rlim_max = 0;
    if (newp) { /* the new limit is read and judged before the old one is written */
        struct rlimit n;
        if (vmc_hc_copy_from(hc, &n, newp, sizeof(n)))
            return -EFAULT;
        if (n.rlim_cur > n.rlim_max || n.rlim_max > r.rlim_max)
            return n.rlim_cur > n.rlim_max ? -EINVAL : -EPERM;
    }
    return oldp && vmc_hc_copy_to(hc, oldp, &r, sizeof(r)) ? -EFAULT : 0;
}

int64_t vmc_lx_getrandom(struct vmc_hcall *hc)
{
    uint8_t buf[256];
    uint64_t len = hc->a.args[1] > sizeof(buf) ? sizeof(buf) : hc->a.args[1];
    if (hc->a.args[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0)
        return -errno;
    return vmc_hc_copy_to(hc, hc->a.args[0], buf, (uint64_t)n) ? -EFAULT : n;
}

int64_t vmc_lx_clock_gettime(struct vmc_hcall *hc)
{
    struct timespec ts;
    if (hc->a.args[0] > CLOCK_BOOTTIME || clock_gettime((clockid_t)hc->a.args[0], &ts) < 0)
        return -EINVAL;
    return vmc_hc_copy_to(hc, hc->a.args[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

int64_t vmc_lx_clock_getres(struct vmc_hcall *hc)
{
    struct timespec ts;
    if (hc->a.args[0] > CLOCK_BOOTTIME || clock_getres((clockid_t)hc->a.args[0], &ts) < 0)
        return -EINVAL;
    return hc->a.args[1] && vmc_hc_copy_to(hc, hc->a.args[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

/* getrusage: the VMM's own use (the program's vCPU time is the VMM's threads' time); no children. */
int64_t vmc_lx_getrusage(struct vmc_hcall *hc)
{
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    int64_t who = (int64_t)hc->a.args[0];
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    if (who != RUSAGE_CHILDREN && getrusage(who == RUSAGE_SELF ? RUSAGE_SELF : RUSAGE_THREAD, &ru) < 0)
        return -errno;
    return vmc_hc_copy_to(hc, hc->a.args[1], &ru, sizeof(ru)) ? -EFAULT : 0;
}

/* times: user and system time in clock ticks (AT_CLKTCK, 100 a second); the VM's uptime in ticks. */
int64_t vmc_lx_times(struct vmc_hcall *hc)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return -errno;
    const int64_t t[4] = { ru.ru_utime.tv_sec * 100 + ru.ru_utime.tv_usec / 10000,
                           ru.ru_stime.tv_sec * 100 + ru.ru_stime.tv_usec / 10000, 0, 0 };
    if (hc->a.args[0] && vmc_hc_copy_to(hc, hc->a.args[0], t, sizeof(t)))
        return -EFAULT;
    return (int64_t)((vmc_now_ns() - hc->vcpu->vm->sched.started) / 10000000);
}

/* getpgid and getsid: the program is process 1, its own group and session. */
int64_t vmc_lx_getpgid(struct vmc_hcall *hc)
{
    return hc->a.args[0] == 0 || hc->a.args[0] == 1 ? 1 : -ESRCH;
}

/* wait4 and waitid: a program without fork has no children. */
int64_t vmc_lx_nochild(struct vmc_hcall *hc)
{
    (void)hc;
    return -ECHILD;
}

int64_t vmc_lx_gettimeofday(struct vmc_hcall *hc)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct {
        int64_t sec, usec;
    } tv = { ts.tv_sec, ts.tv_nsec / 1000 };
    /* both outputs checked before either is written: a bad one leaves the other untouched */
    if ((hc->a.args[0] && !vmc_lx_writable(hc, hc->a.args[0], sizeof(tv))) ||
        (hc->a.args[1] && !vmc_lx_writable(hc, hc->a.args[1], 8)))
        return -EFAULT;
    if (hc->a.args[0] && vmc_hc_copy_to(hc, hc->a.args[0], &tv, sizeof(tv)))
        return -EFAULT;
    if (hc->a.args[1] && vmc_hc_copy_to(hc, hc->a.args[1], (uint64_t[1]){ 0 }, 8))
        return -EFAULT;
    return 0;
}

int64_t vmc_lx_time(struct vmc_hcall *hc)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t = ts.tv_sec;
    return hc->a.args[0] && vmc_hc_copy_to(hc, hc->a.args[0], &t, sizeof(t)) ? -EFAULT : t;
}

/* Sleeping blocks the vCPU in the VMM until the deadline (a cancel or timeout still ends it). */
int64_t vmc_lx_timeout(struct vmc_hcall *hc, uint64_t uts, clockid_t clk, bool absolute, uint64_t *ns)
{
    struct timespec ts, now;
    if (vmc_hc_copy_from(hc, &ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -EINVAL;
    *ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (absolute) {
        clock_gettime(clk, &now);
        uint64_t n = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
        *ns = *ns > n ? *ns - n : 0;
    }
    return 0;
}

/* The vCPU waits in the VMM; a signal handler that runs meanwhile cuts it short (EINTR, the time left
 * written to rem: linux/signal.c). */
static int64_t sleep_until(struct vmc_hcall *hc, clockid_t clk, bool abs, uint64_t req, uint64_t rem)
{
    uint64_t ns, until;
    int64_t rc = vmc_lx_timeout(hc, req, clk, abs, &ns);
    if (rc < 0)
        return rc;
    struct vmc_lx_thread *t = &vmc_lx(hc)->thread[hc->vcpu->id];
    t->sleep_until = 0;
    if (ns) { /* a deadline past what the clock can say is no deadline */
        until = __builtin_add_overflow(vmc_now_ns(), ns, &until) ? 0 : until;
        t->sleep_until = until ? until : UINT64_MAX;
        t->sleep_rem = abs ? 0 : rem;
        vmc_act_block(hc->act, until);
    }
    return 0;
}

int64_t vmc_lx_nanosleep(struct vmc_hcall *hc)
{
    return sleep_until(hc, CLOCK_MONOTONIC, false, hc->a.args[0], hc->a.args[1]);
}

int64_t vmc_lx_clock_nanosleep(struct vmc_hcall *hc)
{
    uint64_t clk = hc->a.args[0];
    if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME)
        return -EINVAL;
    return sleep_until(hc, (clockid_t)clk, hc->a.args[1] & TIMER_ABSTIME, hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_uname(struct vmc_hcall *hc)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    strcpy(u.sysname, "Linux");
    strcpy(u.nodename, "vmcall");
    strcpy(u.release, "6.1.0-vmcall");
    strcpy(u.version, "#1 SMP vmcall " VMC_VERSION);
    strcpy(u.machine, "x86_64");
    strcpy(u.domainname, "(none)");
    return vmc_hc_copy_to(hc, hc->a.args[0], &u, sizeof(u)) ? -EFAULT : 0;
}

/* sched_getaffinity: the CPUs the program's threads can run on, one per vCPU (what nproc counts); the
 * size of the mask written, as Linux returns it. */
int64_t vmc_lx_sched_getaffinity(struct vmc_hcall *hc)
{
    uint64_t len = hc->a.args[1], mask[VMC_VCPU_MAX / 64 + 1] = { 0 };
    uint32_t n = hc->vcpu->vm->nvcpus;
    size_t size = (n + 63) / 64 * 8;
    if (hc->a.args[0] > 1 + (uint64_t)n) /* 0: the caller; else a thread id */
        return -ESRCH;
    if (len < size || (len & 7))
        return -EINVAL;
    for (uint32_t i = 0; i < n; i++)
        mask[i / 64] |= 1ull << (i % 64);
    return vmc_hc_copy_to(hc, hc->a.args[2], mask, size) ? -EFAULT : (int64_t)size;
}

/* sysinfo: the VM's uptime and RAM (--mem), what the mmap area has free, the running threads. */
int64_t vmc_lx_sysinfo(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    struct vmc_linux *lx = vmc_lx(hc);
    struct sysinfo si;
    memset(&si, 0, sizeof(si));
    si.uptime = (long)((vmc_now_ns() - vm->sched.started) / 1000000000);
    si.totalram = vm->mem.size;
    si.freeram = vmc_lx_free_bytes(lx);
    si.procs = (uint16_t)vmc_lx_live_threads(vm);
    si.mem_unit = 1;
    return vmc_hc_copy_to(hc, hc->a.args[0], &si, sizeof(si)) ? -EFAULT : 0;
}

/*
 * prctl: the thread's name (PR_SET_NAME, PR_GET_NAME: 16 bytes with the NUL), dumpable and
 * no_new_privs as a fresh process has them (the latter can be set, never cleared); any other option is
 * EINVAL, as Linux answers an option it does not know.
 */
int64_t vmc_lx_prctl(struct vmc_hcall *hc)
{
    char *name = vmc_lx(hc)->thread[hc->vcpu->id].name;
    char buf[16];
    switch (hc->a.args[0]) {
    case PR_SET_NAME:
        /* Up to 15 bytes and a NUL; Linux reads no further either (strncpy_from_user of 16). */
        memset(buf, 0, sizeof(buf));
        for (size_t i = 0; i < sizeof(buf) - 1; i++)
            if (vmc_hc_copy_from(hc, &buf[i], hc->a.args[1] + i, 1))
                return -EFAULT;
            else if (!buf[i])
                break;
        memcpy(name, buf, sizeof(buf));
        return 0;
    case PR_GET_NAME:
        return vmc_hc_copy_to(hc, hc->a.args[1], name, 16) ? -EFAULT : 0;
    case PR_GET_DUMPABLE:
        return 1;
    case PR_SET_DUMPABLE:
        return hc->a.args[1] <= 1 ? 0 : -EINVAL;
    case PR_SET_PDEATHSIG: /* the program has no parent in the VM that could die first */
        return hc->a.args[1] <= 64 ? 0 : -EINVAL;
    case PR_GET_NO_NEW_PRIVS:
        return vmc_lx(hc)->no_new_privs;
    case PR_SET_NO_NEW_PRIVS:
        if (hc->a.args[1] != 1 || hc->a.args[2] || hc->a.args[3] || hc->a.args[4])
            return -EINVAL;
        vmc_lx(hc)->no_new_privs = true;
        return 0;
    default:
        return -EINVAL;
    }
}

/* ---- signals: a signal to itself ends the program when its action is the default one, as Linux would;
 * one with a handler runs it (linux/signal.c) ---- */

int64_t vmc_lx_rt_sigaction(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t sig = hc->a.args[0], act = hc->a.args[1], old = hc->a.args[2];
    if (sig < 1 || sig > 64 || hc->a.args[3] != 8 || ((sig == SIGKILL || sig == SIGSTOP) && act))
        return -EINVAL;
    struct vmc_lx_sigaction *a = &lx->sig[vmc_index_nospec((uint32_t)sig, 65)], n;
    if (act && vmc_hc_copy_from(hc, &n, act, sizeof(n)))
        return -EFAULT;
    if (old && vmc_hc_copy_to(hc, old, a, sizeof(*a)))
        return -EFAULT;
    if (act)
        *a = n;
    return 0;
}

int64_t vmc_lx_rt_sigprocmask(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t how = hc->a.args[0], set = hc->a.args[1], old = hc->a.args[2], m;
    if (hc->a.args[3] != 8)
        return -EINVAL;
    if (set && vmc_hc_copy_from(hc, &m, set, sizeof(m)))
        return -EFAULT;
    if (set && how > SIG_SETMASK)
        return -EINVAL;
    if (old && vmc_hc_copy_to(hc, old, &lx->thread[hc->vcpu->id].sigmask, sizeof(m)))
        return -EFAULT;
    if (set) {
        m &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
        uint64_t *mask = &lx->thread[hc->vcpu->id].sigmask;
        *mask = how == SIG_BLOCK ? *mask | m : how == SIG_UNBLOCK ? *mask & ~m : m;
    }
    return 0;
}

/* A signal sent to the program itself (linux/signal.c decides what it does); -EINVAL for a bad number. */
int64_t vmc_lx_raise(struct vmc_hcall *hc, uint64_t sig)
{
    if (sig > 64)
        return -EINVAL;
    if (sig)
        vmc_lx_send(hc->vcpu, (unsigned)sig, hc->act);
    return 0;
}

int64_t vmc_lx_kill(struct vmc_hcall *hc)
{
    int64_t pid = (int64_t)hc->a.args[0];
    if (pid != 1 && pid != 0 && pid != -1)
        return -ESRCH; /* no other process */
    return vmc_lx_raise(hc, hc->a.args[1]);
}

int64_t vmc_lx_tgkill(struct vmc_hcall *hc)
{
    uint64_t tid = hc->a.args[1];
    if (hc->a.args[0] != 1 || tid < 1 || tid > hc->vcpu->vm->nvcpus ||
        !vmc_lx_thread_live(hc->vcpu->vm, vmc_index_nospec((uint32_t)tid - 1, hc->vcpu->vm->nvcpus)))
        return -ESRCH;
    return vmc_lx_raise(hc, hc->a.args[2]);
}
