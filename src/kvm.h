/* SPDX-License-Identifier: MIT */
/* The KVM backend: /dev/kvm, and every VM-level ioctl the VMM makes outside the run loop. */
#ifndef VMCALL_SRC_KVM_H
#define VMCALL_SRC_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_kvm {
    int fd;                   /* /dev/kvm; -1 for the fake backend (vmc_kvm_open_fake) */
    int run_size;             /* KVM_GET_VCPU_MMAP_SIZE */
    int kick_signal;          /* what vmc_vm_cancel and injections send a running vCPU thread */
    struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, curated once (arch/x86_64/layout.c) */
    bool hv_msrs; /* KVM itself implements MSRs 0x40000000-0x400000ff (Hyper-V): filter them to see them */
};

/*
 * A backend without KVM for host-only tests: VM and vCPU fds are -1, kvm_run is plain memory, memslot,
 * CPUID and MSR-filter calls succeed without effect. Everything else in the library runs unchanged.
 */
int vmc_kvm_open_fake(struct vmc_kvm **out);
static inline bool vmc_kvm_fake(const struct vmc_kvm *kvm)
{
    return kvm->fd < 0;
}

/* Point this thread's kick handler at run (NULL when the thread leaves the vCPU). */
void vmc_kick_arm(struct kvm_run *run);

/* VM-level operations; each returns 0 or a negative errno. */
int vmc_kvm_create_vm(struct vmc_kvm *kvm, int *vm_fd);
int vmc_kvm_set_memslot(struct vmc_kvm *kvm, int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
                        void *host);
int vmc_kvm_create_vcpu(struct vmc_kvm *kvm, int vm_fd, uint32_t id, int *fd, struct kvm_run **run);
void vmc_kvm_destroy_vcpu(struct vmc_kvm *kvm, int fd, struct kvm_run *run);
/* MSR accesses KVM does not handle, or that the filter names, exit to userspace: true if available. */
bool vmc_kvm_enable_msr_exits(struct vmc_kvm *kvm, int vm_fd);
/* KVM_SET_MSRS of up to 8 MSRs on one vCPU (at load time: the Linux personality's syscall MSRs). */
int vmc_kvm_set_msrs(struct vmc_kvm *kvm, int vcpu_fd, const uint32_t *index, const uint64_t *value,
                     uint32_t n);
/* XCR0 of a vCPU (KVM_SET_XCRS): which state components XSAVE manages and the program may use. */
int vmc_kvm_set_xcr0(struct vmc_kvm *kvm, int vcpu_fd, uint64_t xcr0);
int vmc_kvm_set_msr_filter(struct vmc_kvm *kvm, int vm_fd, struct kvm_msr_filter *filter);
int vmc_kvm_set_cpuid(struct vmc_kvm *kvm, int vcpu_fd, const struct kvm_cpuid2 *cpuid);

#endif /* VMCALL_SRC_KVM_H */
