/* SPDX-License-Identifier: MIT */
/* The /dev/kvm handle: capability checks, cached CPUID, and the vCPU kick signal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * The kvm_run of the vCPU this thread is running, for the kick handler. Per thread, not global: each
 * thread runs at most one vCPU at a time.
 */
static __thread struct kvm_run *volatile tls_run;

void vmc_kick_arm(struct kvm_run *run)
{
    tls_run = run;
}

static void kick_handler(int sig)
{
    (void)sig;
    struct kvm_run *run = tls_run;
    /* A KVM_RUN in progress returns -EINTR anyway; this catches one about to start. */
    if (run)
        run->immediate_exit = 1;
}

void vmc_errf(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

uint64_t vmc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int install_kick(int sig, char *err, size_t errlen)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) {
        vmc_errf(err, errlen, "kick signal %d: %s", sig, strerror(errno));
        return -errno;
    }
    if (old.sa_handler == kick_handler)
        return 0;
    if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
        vmc_errf(err, errlen, "kick signal %d already has a handler; set VMCALL_KICK_SIGNAL to a free one",
                 sig);
        return -EBUSY;
    }
    struct sigaction sa = { 0 };
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return -EINTR */
    if (sigaction(sig, &sa, NULL) != 0) {
        vmc_errf(err, errlen, "kick signal %d: %s", sig, strerror(errno));
        return -errno;
    }
    return 0;
}

int vmc_kvm_open(struct vmc_kvm **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = getenv("VMCALL_KVM_DEVICE");
    if (!path || !*path)
        path = "/dev/kvm";
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            vmc_errf(err, errlen, "%s: no such device (is KVM enabled? modprobe kvm_intel or kvm_amd)", path);
        else if (e == EACCES || e == EPERM)
            vmc_errf(err, errlen, "%s: permission denied (add the user to group kvm)", path);
        else
            vmc_errf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc;
    int ver = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION) {
        vmc_errf(err, errlen, "%s: KVM API version %d, need %d", path, ver, KVM_API_VERSION);
        rc = -ENOTSUP;
        goto err_close;
    }
    static const struct {
        int cap;
        const char *name;
    } need[] = {
        { KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
            vmc_errf(err, errlen, "%s: missing %s", path, need[i].name);
            rc = -ENOTSUP;
            goto err_close;
        }
    }
    int sync = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    const int want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    if ((sync & want) != want) {
        vmc_errf(err, errlen, "%s: KVM_CAP_SYNC_REGS lacks regs/sregs/events (0x%x)", path, sync);
        rc = -ENOTSUP;
        goto err_close;
    }
    struct vmc_kvm *kvm = calloc(1, sizeof(*kvm));
    if (!kvm) {
        rc = -ENOMEM;
        goto err_close;
    }
    kvm->fd = fd;
    kvm->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm->run_size < (int)sizeof(struct kvm_run)) {
        vmc_errf(err, errlen, "%s: bad vCPU mmap size %d", path, kvm->run_size);
        rc = -ENOTSUP;
        goto err_free;
    }
    rc = vmc_x86_build_cpuid(fd, &kvm->cpuid);
    if (rc < 0) {
        vmc_errf(err, errlen, "%s: KVM_GET_SUPPORTED_CPUID: %s", path, strerror(-rc));
        goto err_free;
    }
    kvm->kick_signal = SIGRTMIN;
    const char *ks = getenv("VMCALL_KICK_SIGNAL");
    if (ks && *ks) {
        char *end;
        long v = strtol(ks, &end, 10);
        if (*end || v < 1 || v > SIGRTMAX || v == SIGKILL || v == SIGSTOP) {
            vmc_errf(err, errlen, "VMCALL_KICK_SIGNAL=%s: not a usable signal number", ks);
            rc = -EINVAL;
            goto err_free;
        }
        kvm->kick_signal = (int)v;
    }
    rc = install_kick(kvm->kick_signal, err, errlen);
    if (rc < 0)
        goto err_free;
    *out = kvm;
    return 0;

err_free:
    free(kvm->cpuid);
    free(kvm);
err_close:
    close(fd);
    return rc;
}

void vmc_kvm_close(struct vmc_kvm *kvm)
{
    if (!kvm)
        return;
    close(kvm->fd);
    free(kvm->cpuid);
    free(kvm);
}
