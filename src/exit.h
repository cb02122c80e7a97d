/* SPDX-License-Identifier: MIT */
/* VM exits: decode a kvm_run into a VMCS-style exit record, then decide what to do through one table. */
#ifndef VMCALL_SRC_EXIT_H
#define VMCALL_SRC_EXIT_H

#include <linux/kvm.h>

#include "action.h"
#include "vmcall/vmcall.h"

struct vmc_vcpu;

/* Pure: the exit record of this kvm_run (no guest memory, no ioctl). An OUT to the doorbell port is the
 * VMM's hypercall instruction: it decodes as VMC_EXIT_VMCALL, with `count` the repetitions. */
void vmc_exit_decode(const struct kvm_run *run, struct vmc_exit *ex);
/* Count the exit and fill act with what the run loop must do; handlers never block, kick or enter. */
void vmc_exit_handle(struct vmc_vcpu *vcpu, const struct vmc_exit *ex, struct vmc_action *act);
/* Count an exit the run loop took without a handler (a signal's -EINTR). */
void vmc_exit_count(struct vmc_vcpu *vcpu, uint32_t reason);

#endif /* VMCALL_SRC_EXIT_H */
