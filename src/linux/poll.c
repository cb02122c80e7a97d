/* SPDX-License-Identifier: MIT */
/* The Linux personality's poll, ppoll, select and pselect6: readiness of the program's descriptors. */
#include <poll.h>
#include <string.h>
#include <sys/select.h>

#include "../dev/console.h"
#include "../hc/console.h"
#include "calls.h"

#define POLL_TICK_NS 1000000ull /* how often a wait on host descriptors looks again */

/*
 * Readiness now, by one host poll() that does not wait: standard input is the console's input
 * descriptor, standard output is ready while the console queue has room, standard error and files are
 * the host's descriptors. Entries get revents (POLLNVAL for a descriptor the program does not have);
 * the count of entries with any. *stdin_only: every entry is standard input, whose wait can end the
 * moment input comes instead of at the next look.
 */
static int poll_now(struct vmc_hcall *hc, struct pollfd *p, unsigned n, bool *stdin_only)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_console *con = vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE);
    struct pollfd host[VMC_LX_FD_MAX];
    *stdin_only = true;
    for (unsigned i = 0; i < n; i++) {
        host[i] = (struct pollfd){ .fd = -1 };
        p[i].revents = 0;
        if (p[i].fd < 0)
            continue;
        const struct vmc_lx_fd *f = vmc_lx_fd_get(lx, (uint64_t)p[i].fd);
        if (!f) {
            p[i].revents = POLLNVAL;
            continue;
        }
        *stdin_only &= f->kind == LX_FD_STDIN;
        short out = p[i].events & (POLLOUT | POLLWRNORM);
        switch (f->kind) {
        case LX_FD_STDIN: /* no input at all reads as its end */
            host[i] = (struct pollfd){ .fd = con->in.fd, .events = p[i].events };
            p[i].revents = con->in.fd < 0 ? POLLHUP : 0;
            break;
        case LX_FD_STDOUT:
            p[i].revents = vmc_console_space(con) ? out : 0;
            break;
        case LX_FD_STDERR:
            host[i] = (struct pollfd){ .fd = 2, .events = out };
            break;
        default:
            host[i] = (struct pollfd){ .fd = f->host, .events = p[i].events };
            break;
        }
    }
    if (n && poll(host, n, 0) < 0)
        return -1;
    int ready = 0;
    for (unsigned i = 0; i < n; i++) {
        if (host[i].fd >= 0)
            p[i].revents |= host[i].revents;
        ready += p[i].revents != 0;
    }
    return ready;
}

/*
 * The wait of poll and select: nothing ready and time left makes the call a continuation that runs
 * again when input comes (standard input only) or at the next tick, until the deadline (timeout_ns
 * from the first run; -1: none). The thread remembers the deadline across the runs. true: it waits.
 */
static bool wait_more(struct vmc_hcall *hc, int ready, int64_t timeout_ns, bool stdin_only)
{
    struct vmc_lx_thread *t = &vmc_lx(hc)->thread[hc->vcpu->id];
    uint64_t now = vmc_now_ns();
    if (!t->polling)
        t->poll_deadline =
            timeout_ns < 0 || __builtin_add_overflow(now, (uint64_t)timeout_ns, &t->poll_deadline)
                ? 0
                : t->poll_deadline;
    bool more = ready == 0 && timeout_ns != 0 && (t->poll_deadline == 0 || now < t->poll_deadline);
    if (!more || !vmc_hc_continue(hc)) {
        t->polling = false;
        return false;
    }
    t->polling = true;
    if (stdin_only) {
        vmc_hc_wait_input(hc);
        hc->act->until = t->poll_deadline;
    } else {
        uint64_t tick = now + POLL_TICK_NS;
        vmc_act_block(hc->act, t->poll_deadline && t->poll_deadline < tick ? t->poll_deadline : tick);
    }
    return true;
}

static int64_t poll_common(struct vmc_hcall *hc, uint64_t ufds, uint64_t nfds, int64_t timeout_ns)
{
    struct pollfd p[VMC_LX_FD_MAX];
    if (nfds > VMC_LX_FD_MAX)
        return -EINVAL; /* Linux: more than RLIMIT_NOFILE */
    if (nfds && vmc_hc_copy_from(hc, p, ufds, nfds * sizeof(p[0])))
        return -EFAULT;
    bool stdin_only;
    int ready = poll_now(hc, p, (unsigned)nfds, &stdin_only);
    if (ready < 0)
        return -errno;
    if (wait_more(hc, ready, timeout_ns, stdin_only))
        return 0;
    if (nfds && vmc_hc_copy_to(hc, ufds, p, nfds * sizeof(p[0])))
        return -EFAULT;
    return ready;
}

int64_t vmc_lx_poll(struct vmc_hcall *hc)
{
    int32_t ms = (int32_t)hc->a.args[2];
    return poll_common(hc, hc->a.args[0], hc->a.args[1], ms < 0 ? -1 : (int64_t)ms * 1000000);
}

/* ppoll: a timespec timeout (NULL: none); the signal mask it takes is not applied (signals that could
 * interrupt the wait are the program's own, delivered when the call returns). */
int64_t vmc_lx_ppoll(struct vmc_hcall *hc)
{
    uint64_t ns = 0;
    if (hc->a.args[2]) {
        int64_t rc = vmc_lx_timeout(hc, hc->a.args[2], CLOCK_MONOTONIC, false, &ns);
        if (rc < 0)
            return rc;
    }
    return poll_common(hc, hc->a.args[0], hc->a.args[1], hc->a.args[2] ? (int64_t)(ns & INT64_MAX) : -1);
}

/*
 * select and pselect6 as poll over the descriptors the three sets name below nfds (clamped to the
 * descriptor table's size, as Linux does), the sets rewritten with what is ready: the count of bits set.
 */
static int64_t select_common(struct vmc_hcall *hc, uint64_t nfds, const uint64_t set_addr[3],
                             int64_t timeout_ns)
{
    uint64_t sets[3][VMC_LX_FD_MAX / 64] = { { 0 } };
    if ((int32_t)nfds < 0)
        return -EINVAL;
    nfds =
        (uint32_t)nfds < VMC_LX_FD_MAX ? (uint32_t)nfds : VMC_LX_FD_MAX; /* Linux: up to its table's size */
    size_t bytes = (nfds + 63) / 64 * 8;
    for (int s = 0; s < 3; s++)
        if (set_addr[s] && bytes && vmc_hc_copy_from(hc, sets[s], set_addr[s], bytes))
            return -EFAULT;
    static const short ev[3] = { POLLIN, POLLOUT, POLLPRI };
    struct pollfd p[VMC_LX_FD_MAX];
    unsigned n = 0;
    for (unsigned fd = 0; fd < nfds; fd++) {
        short events = 0;
        for (int s = 0; s < 3; s++)
            events |= (sets[s][fd / 64] >> (fd % 64)) & 1 ? ev[s] : 0;
        if (events)
            p[n++] = (struct pollfd){ .fd = (int)fd, .events = events };
    }
    bool stdin_only;
    int ready = poll_now(hc, p, n, &stdin_only);
    if (ready < 0)
        return -errno;
    for (unsigned i = 0; i < n; i++)
        if (p[i].revents & POLLNVAL)
            return -EBADF;
    if (wait_more(hc, ready, timeout_ns, stdin_only))
        return 0;
    memset(sets, 0, sizeof(sets));
    int64_t bits = 0;
    for (unsigned i = 0; i < n; i++)
        for (int s = 0; s < 3; s++) {
            /* As Linux counts them: POLLHUP and POLLERR make a descriptor readable (and writable). */
            short hit = s == 0 ? POLLIN | POLLHUP | POLLERR : s == 1 ? POLLOUT | POLLERR : POLLPRI;
            if ((p[i].events & ev[s]) && (p[i].revents & hit)) {
                sets[s][p[i].fd / 64] |= 1ull << (p[i].fd % 64);
                bits++;
            }
        }
    for (int s = 0; s < 3; s++)
        if (set_addr[s] && bytes && vmc_hc_copy_to(hc, set_addr[s], sets[s], bytes))
            return -EFAULT;
    return bits;
}

/* The time a finished select has left (Linux writes it back into the caller's timeout): 0 once the
 * deadline passed. */
static uint64_t time_left(struct vmc_hcall *hc)
{
    uint64_t deadline = vmc_lx(hc)->thread[hc->vcpu->id].poll_deadline, now = vmc_now_ns();
    return deadline > now ? deadline - now : 0;
}

/* select: a struct timeval timeout (NULL: none), rewritten with the time left, as Linux does. */
int64_t vmc_lx_select(struct vmc_hcall *hc)
{
    const uint64_t sets[3] = { hc->a.args[1], hc->a.args[2], hc->a.args[3] };
    struct {
        int64_t sec, usec;
    } tv = { 0, 0 };
    uint64_t tva = hc->a.args[4];
    if (tva && vmc_hc_copy_from(hc, &tv, tva, sizeof(tv)))
        return -EFAULT;
    if (tva && (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000))
        return -EINVAL;
    int64_t ns = tv.sec > INT64_MAX / 1000000000 - 1 ? INT64_MAX : tv.sec * 1000000000 + tv.usec * 1000;
    int64_t r = select_common(hc, hc->a.args[0], sets, tva ? ns : -1);
    if (r >= 0 && tva && !vmc_lx(hc)->thread[hc->vcpu->id].polling) {
        uint64_t left = time_left(hc);
        tv.sec = (int64_t)(left / 1000000000), tv.usec = (int64_t)(left % 1000000000 / 1000);
        if (vmc_hc_copy_to(hc, tva, &tv, sizeof(tv)))
            return -EFAULT;
    }
    return r;
}

/* pselect6: a timespec timeout, rewritten with the time left, and a signal mask that is not applied
 * (as ppoll's). */
int64_t vmc_lx_pselect6(struct vmc_hcall *hc)
{
    const uint64_t sets[3] = { hc->a.args[1], hc->a.args[2], hc->a.args[3] };
    uint64_t ns = 0, tsa = hc->a.args[4];
    if (tsa) {
        int64_t rc = vmc_lx_timeout(hc, tsa, CLOCK_MONOTONIC, false, &ns);
        if (rc < 0)
            return rc;
    }
    int64_t r = select_common(hc, hc->a.args[0], sets, tsa ? (int64_t)(ns & INT64_MAX) : -1);
    if (r >= 0 && tsa && !vmc_lx(hc)->thread[hc->vcpu->id].polling) {
        uint64_t left = time_left(hc);
        const struct timespec ts = { (time_t)(left / 1000000000), (long)(left % 1000000000) };
        if (vmc_hc_copy_to(hc, tsa, &ts, sizeof(ts)))
            return -EFAULT;
    }
    return r;
}
