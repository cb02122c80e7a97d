/* SPDX-License-Identifier: MIT */
/* CPUID policy: the leaves a VM's guest sees (the curated table, with this VM's overrides). */
#ifndef VMCALL_SRC_CPUID_H
#define VMCALL_SRC_CPUID_H

#include <linux/kvm.h>

struct vmc_vm;

/* This VM's table (its own copy once it has an override, else the process-wide curated one). */
const struct kvm_cpuid2 *vmc_cpuid_table(const struct vmc_vm *vm);
/* KVM_SET_CPUID2 on every vCPU: at the first run, so that overrides may come after create. */
int vmc_cpuid_apply(struct vmc_vm *vm);
void vmc_cpuid_free(struct vmc_vm *vm);
/* Replace the hypervisor leaves (0x40000000-0x4000ffff) with n others: a personality's own. */
int vmc_cpuid_set_hypervisor_leaves(struct vmc_vm *vm, const struct kvm_cpuid_entry2 *leaves, unsigned n);

#endif /* VMCALL_SRC_CPUID_H */
