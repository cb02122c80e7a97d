/* SPDX-License-Identifier: MIT */
/* The KVM backend: open /dev/kvm and check it, cache CPUID, the kick signal, VM-level ioctls, a fake. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "kvm.h"
#include "util.h"

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

static int kick_signal(int *sig, char *err, size_t errlen)
{
    *sig = SIGRTMIN;
    const char *ks = getenv("VMCALL_KICK_SIGNAL");
    if (!ks || !*ks)
        return 0;
    char *end;
    long v = strtol(ks, &end, 10);
    if (*end || v < 1 || v > SIGRTMAX || v == SIGKILL || v == SIGSTOP) {
        vmc_errf(err, errlen, "VMCALL_KICK_SIGNAL=%s: not a usable signal number", ks);
        return -EINVAL;
    }
    *sig = (int)v;
    return 0;
}

/* Capabilities the VMM cannot work without (docs/abi-reference.md, "KVM"). */
static int check_caps(int fd, const char *path, char *err, size_t errlen)
{
    int ver = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION) {
        vmc_errf(err, errlen, "%s: KVM API version %d, need %d", path, ver, KVM_API_VERSION);
        return -ENOTSUP;
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
            return -ENOTSUP;
        }
    }
    int sync = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    const int want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    if ((sync & want) != want) {
        vmc_errf(err, errlen, "%s: KVM_CAP_SYNC_REGS lacks regs/sregs/events (0x%x)", path, sync);
        return -ENOTSUP;
    }
    return 0;
}

/* Does KVM list MSR 0x40000000 among those it emulates (Hyper-V's guest OS id)? Then the hypercall-page
 * MSR only reaches the VMM through the MSR filter; otherwise it exits as an unknown MSR. */
static bool kvm_knows_hv_msrs(int fd)
{
    struct kvm_msr_list probe = { .nmsrs = 0 };
    if (ioctl(fd, KVM_GET_MSR_INDEX_LIST, &probe) == 0 || errno != E2BIG || probe.nmsrs > 4096)
        return true; /* cannot tell: assume it does */
    struct kvm_msr_list *l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
    bool found = true;
    if (l) {
        l->nmsrs = probe.nmsrs;
        if (ioctl(fd, KVM_GET_MSR_INDEX_LIST, l) == 0) {
            found = false;
            for (uint32_t i = 0; i < l->nmsrs; i++)
                found |= (l->indices[i] & 0xffffff00u) == 0x40000000u;
        }
        free(l);
    }
    return found;
}

static int open_device(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e == ENOENT)
        vmc_errf(err, errlen, "%s: no such device (is KVM enabled? modprobe kvm_intel or kvm_amd)", path);
    else if (e == EACCES || e == EPERM)
        vmc_errf(err, errlen, "%s: permission denied (add the user to group kvm)", path);
    else
        vmc_errf(err, errlen, "%s: %s", path, strerror(e));
    return -e;
}

int vmc_kvm_open(struct vmc_kvm **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = getenv("VMCALL_KVM_DEVICE");
    if (!path || !*path)
        path = "/dev/kvm";
    int fd = open_device(path, err, errlen);
    if (fd < 0)
        return fd;
    struct vmc_kvm *kvm = calloc(1, sizeof(*kvm));
    int rc = kvm ? check_caps(fd, path, err, errlen) : -ENOMEM;
    if (rc < 0)
        goto fail;
    kvm->fd = fd;
    kvm->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm->run_size < (int)sizeof(struct kvm_run)) {
        vmc_errf(err, errlen, "%s: bad vCPU mmap size %d", path, kvm->run_size);
        rc = -ENOTSUP;
        goto fail;
    }
    rc = vmc_x86_build_cpuid(fd, &kvm->cpuid);
    if (rc < 0) {
        vmc_errf(err, errlen, "%s: KVM_GET_SUPPORTED_CPUID: %s", path, strerror(-rc));
        goto fail;
    }
    kvm->hv_msrs = kvm_knows_hv_msrs(fd);
    rc = kick_signal(&kvm->kick_signal, err, errlen);
    if (rc == 0)
        rc = install_kick(kvm->kick_signal, err, errlen);
    if (rc < 0)
        goto fail;
    *out = kvm;
    return 0;
fail:
    if (kvm)
        free(kvm->cpuid);
    free(kvm);
    close(fd);
    return rc;
}

int vmc_kvm_open_fake(struct vmc_kvm **out)
{
    struct vmc_kvm *kvm = calloc(1, sizeof(*kvm));
    if (!kvm)
        return -ENOMEM;
    kvm->fd = -1;
    kvm->run_size = 3 * 4096; /* kvm_run, the PIO data page, spare: like KVM's */
    kvm->kick_signal = SIGRTMIN;
    install_kick(kvm->kick_signal, NULL, 0); /* it interrupts the console's writer thread too */
    kvm->cpuid = calloc(1, sizeof(*kvm->cpuid));
    if (!kvm->cpuid) {
        free(kvm);
        return -ENOMEM;
    }
    *out = kvm;
    return 0;
}

void vmc_kvm_close(struct vmc_kvm *kvm)
{
    if (!kvm)
        return;
    if (kvm->fd >= 0)
        close(kvm->fd);
    free(kvm->cpuid);
    free(kvm);
}

int vmc_kvm_create_vm(struct vmc_kvm *kvm, int *vm_fd)
{
    *vm_fd = -1;
    if (vmc_kvm_fake(kvm))
        return 0;
    int fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
    if (fd < 0)
        return -errno;
    *vm_fd = fd;
    return 0;
}

int vmc_kvm_set_memslot(struct vmc_kvm *kvm, int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
                        void *host)
{
    if (vmc_kvm_fake(kvm))
        return 0;
    struct kvm_userspace_memory_region r = {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host
    };
    return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int vmc_kvm_create_vcpu(struct vmc_kvm *kvm, int vm_fd, uint32_t id, int *fd, struct kvm_run **run)
{
    *fd = -1;
    if (vmc_kvm_fake(kvm)) {
        *run = calloc(1, (size_t)kvm->run_size);
        return *run ? 0 : -ENOMEM;
    }
    *fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (*fd < 0)
        return -errno;
    void *p = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(*fd);
        *fd = -1;
        return -e;
    }
    *run = p;
    return 0;
}

void vmc_kvm_destroy_vcpu(struct vmc_kvm *kvm, int fd, struct kvm_run *run)
{
    if (vmc_kvm_fake(kvm)) {
        free(run);
        return;
    }
    if (run)
        munmap(run, (size_t)kvm->run_size);
    if (fd >= 0)
        close(fd);
}

bool vmc_kvm_enable_msr_exits(struct vmc_kvm *kvm, int vm_fd)
{
    if (vmc_kvm_fake(kvm))
        return true;
    if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
        ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0)
        return false;
    struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
                                  .args = { KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN } };
    return ioctl(vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

int vmc_kvm_set_msrs(struct vmc_kvm *kvm, int vcpu_fd, const uint32_t *index, const uint64_t *value,
                     uint32_t n)
{
    if (vmc_kvm_fake(kvm))
        return 0;
    if (n > 8)
        return -E2BIG;
    /* struct kvm_msrs ends in a flexible array: the entries follow it in one buffer */
    union {
        struct kvm_msrs h;
        uint8_t raw[sizeof(struct kvm_msrs) + 8 * sizeof(struct kvm_msr_entry)];
    } m;
    memset(&m, 0, sizeof(m));
    m.h.nmsrs = n;
    for (uint32_t i = 0; i < n; i++)
        m.h.entries[i] = (struct kvm_msr_entry){ .index = index[i], .data = value[i] };
    int rc = ioctl(vcpu_fd, KVM_SET_MSRS, &m);
    return rc < 0 ? -errno : rc == (int)n ? 0 : -EINVAL;
}

int vmc_kvm_set_xcr0(struct vmc_kvm *kvm, int vcpu_fd, uint64_t xcr0)
{
    if (vmc_kvm_fake(kvm))
        return 0;
    struct kvm_xcrs x;
    memset(&x, 0, sizeof(x));
    x.nr_xcrs = 1;
    x.xcrs[0].xcr = 0;
    x.xcrs[0].value = xcr0;
    return ioctl(vcpu_fd, KVM_SET_XCRS, &x) == 0 ? 0 : -errno;
}

int vmc_kvm_set_msr_filter(struct vmc_kvm *kvm, int vm_fd, struct kvm_msr_filter *filter)
{
    if (vmc_kvm_fake(kvm))
        return 0;
    return ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, filter) < 0 ? -errno : 0;
}

int vmc_kvm_set_cpuid(struct vmc_kvm *kvm, int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
    if (vmc_kvm_fake(kvm))
        return 0;
    return ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
}
