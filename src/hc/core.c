/* SPDX-License-Identifier: MIT */
/* The core hypercalls: version, console, sched_op, time, random, multicall. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>

#include "../dev/console.h"
#include "../vm.h"
#include "calls.h"
#include "console.h"

int64_t vmc_hc_version(struct vmc_hcall *hc)
{
    if (hc->a.args[0]) {
        VMC_HANDLE(struct vmc_version) out;
        vmc_handle(out, hc->a.args[0]);
        struct vmc_version v = { .abi_version = VMC_ABI_VERSION, .features = vmc_vm_features(hc->vcpu->vm) };
        snprintf(v.vmm, sizeof(v.vmm), "vmcall %s", VMC_VERSION);
        if (copy_to_guest(hc, out, &v, 1))
            return -VMC_EFAULT;
    }
    return VMC_ABI_VERSION;
}

static bool console_room(struct vmc_vcpu *vcpu)
{
    return vmc_event_pending(vcpu) || vmc_console_space(vmc_vm_dev(vcpu->vm, VMC_DEV_CONSOLE));
}

static bool console_empty(struct vmc_vcpu *vcpu)
{
    return vmc_event_pending(vcpu) || vmc_console_empty(vmc_vm_dev(vcpu->vm, VMC_DEV_CONSOLE));
}

static bool input_came(struct vmc_vcpu *vcpu)
{
    struct vmc_console *con = vmc_vm_dev(vcpu->vm, VMC_DEV_CONSOLE);
    return vmc_event_pending(vcpu) || vmc_input_ready(&con->in);
}

void vmc_hc_wait_console_room(struct vmc_hcall *hc)
{
    vmc_act_wait(hc->act, console_room);
}

void vmc_hc_wait_console_empty(struct vmc_hcall *hc)
{
    vmc_console_push(vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE));
    vmc_act_wait(hc->act, console_empty);
}

void vmc_hc_wait_input(struct vmc_hcall *hc)
{
    vmc_input_arm(&((struct vmc_console *)vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE))->in);
    vmc_act_wait(hc->act, input_came);
}

/* The buffers to (out) or from the console, in order, up to the first the console did not take or fill
 * whole: the bytes moved. */
static uint64_t console_iov(struct vmc_hcall *hc, const struct iovec *iov, int n, bool out)
{
    struct vmc_console *con = vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE);
    uint64_t done = 0;
    for (int i = 0; i < n; i++) {
        size_t moved = out ? vmc_console_write(con, iov[i].iov_base, iov[i].iov_len)
                           : vmc_console_read(con, iov[i].iov_base, iov[i].iov_len);
        done += moved;
        if (moved < iov[i].iov_len)
            break;
    }
    return done;
}

uint64_t vmc_hc_console_put(struct vmc_hcall *hc, const struct iovec *iov, int n)
{
    return console_iov(hc, iov, n, true);
}

uint64_t vmc_hc_console_get(struct vmc_hcall *hc, const struct iovec *iov, int n)
{
    return console_iov(hc, iov, n, false);
}

/*
 * Every page of the buffer is checked before a byte goes out (abi.h: a bad handle gets -EFAULT, and then
 * nothing was written); the bytes go from guest memory to the console queue without a copy in between.
 * A full queue takes what fits: the call returns that count, and with 0 the vCPU waits for room (the
 * SDK writes the rest again).
 */
int64_t vmc_hc_console_write(struct vmc_hcall *hc)
{
    uint64_t buf = hc->a.args[0], len = hc->a.args[1];
    if (len > VMC_CONSOLE_IO_MAX)
        return -VMC_EINVAL;
    struct iovec iov[VMC_CONSOLE_IO_MAX / 4096 + 1];
    int n = vmc_hc_iov(hc, buf, len, false, iov, (int)ARRAY_SIZE(iov));
    if (n < 0)
        return -VMC_EFAULT;
    uint64_t done = vmc_hc_console_put(hc, iov, n);
    if (done == 0 && len)
        vmc_hc_wait_console_room(hc);
    return (int64_t)done;
}

/*
 * Nothing to read and asked to wait: the watcher is armed before the vCPU blocks, so input that comes in
 * between is not missed; the guest is told -EAGAIN and calls again once woken.
 */
int64_t vmc_hc_console_read(struct vmc_hcall *hc)
{
    uint64_t buf = hc->a.args[0], len = hc->a.args[1], flags = hc->a.args[2];
    struct vmc_console *con = vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE);
    uint8_t tmp[4096];
    if (flags & ~(uint64_t)VMC_CONSOLE_WAIT)
        return -VMC_EINVAL;
    if (len > sizeof(tmp))
        len = sizeof(tmp);
    if (len == 0)
        return 0;
    size_t n = vmc_console_read(con, tmp, len);
    if (n == 0 && !vmc_console_eof(con) && (flags & VMC_CONSOLE_WAIT))
        vmc_hc_wait_input(hc);
    if (n == 0)
        return vmc_console_eof(con) ? 0 : -VMC_EAGAIN;
    if (vmc_hc_copy_to(hc, buf, tmp, n))
        return -VMC_EFAULT;
    return (int64_t)n;
}

static int64_t shutdown(struct vmc_hcall *hc)
{
    VMC_HANDLE(struct vmc_sched_shutdown) in;
    vmc_handle(in, hc->a.args[1]);
    struct vmc_sched_shutdown sd;
    if (copy_from_guest(hc, &sd, in, 1))
        return -VMC_EFAULT;
    if (sd.reason == VMC_SHUTDOWN_POWEROFF)
        vmc_act_stop(hc->act, VMC_STOP_EXIT, sd.status);
    else if (sd.reason == VMC_SHUTDOWN_CRASH)
        vmc_act_crash(hc->act, VMC_CRASH_GUEST, sd.status);
    else
        return -VMC_EINVAL;
    return 0;
}

int64_t vmc_hc_sched_op(struct vmc_hcall *hc)
{
    switch (hc->a.args[0]) {
    case VMC_SCHEDOP_YIELD:
        sched_yield();
        return 0;
    case VMC_SCHEDOP_BLOCK: {
        /* The run loop waits after the call returns 0: until an interrupt is pending, the timeout, or a
         * stop. */
        uint64_t until = 0, timeout = hc->a.args[1];
        if (timeout && __builtin_add_overflow(vmc_now_ns(), timeout, &until))
            until = 0;
        vmc_act_block(hc->act, until);
        return 0;
    }
    case VMC_SCHEDOP_SHUTDOWN:
        return shutdown(hc);
    default:
        return -VMC_EINVAL;
    }
}

int64_t vmc_hc_time(struct vmc_hcall *hc)
{
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    struct vmc_time t = {
        .monotonic_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec,
        .wall_ns = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec,
    };
    VMC_HANDLE(struct vmc_time) out;
    vmc_handle(out, hc->a.args[0]);
    return copy_to_guest(hc, out, &t, 1) ? -VMC_EFAULT : 0;
}

int64_t vmc_hc_random(struct vmc_hcall *hc)
{
    uint64_t len = hc->a.args[1];
    uint8_t tmp[VMC_RANDOM_MAX];
    if (len > sizeof(tmp))
        return -VMC_EINVAL;
    for (size_t got = 0; got < len;) {
        ssize_t n = getrandom(tmp + got, len - got, 0);
        if (n < 0 && errno != EINTR)
            return -VMC_EIO;
        if (n > 0)
            got += (size_t)n;
    }
    return vmc_hc_copy_to(hc, hc->a.args[0], tmp, len) ? -VMC_EFAULT : (int64_t)len;
}

/* One entry of a multicall list, dispatched through the same table (so CPL and allow-list apply). */
static int64_t multicall_one(struct vmc_hcall *hc, uint64_t op, const uint64_t args[5])
{
    struct vmc_hcall sub = *hc;
    sub.depth = hc->depth + 1;
    sub.a.nr = op >= UINT32_MAX ? UINT32_MAX : (uint32_t)op;
    memcpy(sub.a.args, args, sizeof(sub.a.args));
    hc->vcpu->hc = &sub;
    int64_t r = vmc_hc_dispatch(&sub);
    hc->vcpu->hc = hc;
    return r;
}

/*
 * Every page of the list is translated and checked once, writable because results go back; entries are
 * copied into host memory in one go and read only from that copy, and only each result is written back
 * (Xen's rule). An entry that stops the VM or takes the vCPU down ends the list: the rest never runs.
 */
static int64_t multicall(struct vmc_hcall *hc, bool compat)
{
    uint64_t list = hc->a.args[0], nr = hc->a.args[1];
    if (hc->depth > 0)
        return -VMC_EINVAL; /* no nesting (Xen refuses it the same way) */
    if (nr > VMC_MULTICALL_MAX)
        return -VMC_E2BIG;
    union {
        struct vmc_multicall_entry n[VMC_MULTICALL_MAX];
        struct vmc_multicall_entry_compat c[VMC_MULTICALL_MAX];
    } ents;
    const uint64_t esize = compat ? sizeof(ents.c[0]) : sizeof(ents.n[0]);
    const uint64_t roff = compat ? offsetof(typeof(ents.c[0]), result) : offsetof(typeof(ents.n[0]), result);
    struct iovec iov[sizeof(ents) / 4096 + 2];
    int niov = vmc_hc_iov(hc, list, nr * esize, true, iov, (int)ARRAY_SIZE(iov));
    if (niov < 0)
        return -VMC_EFAULT;
    vmc_iov_copy(iov, niov, 0, &ents, nr * esize, false);
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t args[5];
        for (int k = 0; k < 5; k++)
            args[k] = compat ? ents.c[i].args[k] : ents.n[i].args[k];
        int64_t result = multicall_one(hc, compat ? ents.c[i].op : ents.n[i].op, args);
        int32_t r32 = (int32_t)result;
        vmc_iov_copy(iov, niov, i * esize + roff, compat ? (void *)&r32 : (void *)&result, compat ? 4 : 8,
                     true);
        if (vmc_act_final(hc->act))
            break;
    }
    return 0;
}

int64_t vmc_hc_multicall(struct vmc_hcall *hc)
{
    return multicall(hc, false);
}

int64_t vmc_hc_multicall_compat(struct vmc_hcall *hc)
{
    return multicall(hc, true);
}
