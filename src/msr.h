/* SPDX-License-Identifier: MIT */
/* MSRs: the MSR policy (the VMM's MSR bitmap, through KVM's MSR filter) and the MSRs the VMM handles. */
#ifndef VMCALL_SRC_MSR_H
#define VMCALL_SRC_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_vm;
struct vmc_vcpu;

struct vmc_msr_rule {
    uint32_t index;
    bool deny; /* else fn handles it */
    vmc_msr_fn fn;
    void *opaque;
};

struct vmc_msrs {
    struct vmc_msr_rule rules[VMC_MSR_RULES_MAX];
    unsigned nrules;
    bool exits;      /* KVM exits to the VMM for MSRs it does not know and for filtered ones */
    bool filtered;   /* a filter is installed */
    bool applied;    /* the VM has run: changes take effect at once */
    uint64_t hcpage; /* last value written to the hypercall-page MSR */
};

void vmc_msr_init(struct vmc_vm *vm);
/* Install KVM's MSR filter if any MSR needs it (rules, or the VMM's own MSRs where KVM implements them). */
int vmc_msr_apply(struct vmc_vm *vm);
/* An RDMSR/WRMSR exit: the policy (deny, an embedder's handler), then the VMM's own MSRs. 0 = done, -1 =
 * #GP. For reads *value is the result. */
int vmc_msr_access(struct vmc_vcpu *vcpu, uint32_t index, bool write, uint64_t *value);

#endif /* VMCALL_SRC_MSR_H */
