/* SPDX-License-Identifier: MIT */
/* A vCPU: its KVM handles, the state each module keeps for it, and the run loop. */
#ifndef VMCALL_SRC_VCPU_H
#define VMCALL_SRC_VCPU_H

#include <linux/kvm.h>
#include <stdint.h>

#include "action.h"
#include "event.h"
#include "sched.h"
#include "timer.h"
#include "vmcall/vmcall.h"

struct vmc_hcall;
struct vmc_hc_counter;

struct vmc_exit_counter {
    uint64_t count, total_ns;
};

/* Each part has one owner, named beside it; no other module writes it. */
struct vmc_vcpu {
    struct vmc_vm *vm;
    uint32_t id;
    int fd;
    struct kvm_run *run;        /* vcpu.c: entries and registers (through the accessors below) */
    struct vmc_stop_req result; /* vcpu.c: why this vCPU's last run ended */
    int rc;                     /* vcpu.c: the VMM error that ended it */
    struct vmc_exit exit;       /* exit.c: the last decoded exit */
    struct vmc_action *act;     /* exit.c: the action of the exit being handled (vmc_vcpu_exit) */
    struct vmc_exit_counter exits[VMC_EXIT_REASON_MAX]; /* exit.c: per basic reason */
    struct vmc_hcall *hc;            /* hypercall.c: the call being handled (vmc_vcpu_copy_*_guest) */
    struct vmc_hc_counter *hc_stats; /* hypercall.c: per call number */
    struct vmc_vcpu_sched sched;     /* sched.c */
    struct vmc_vcpu_events ev;       /* event.c */
    struct vmc_vcpu_timer timer;     /* timer.c */
};

/* The guest registers, as KVM hands them over on every exit (sync regs: no ioctl). A module that changes
 * them marks what it changed dirty, and KVM loads it at the next entry. */
static inline struct kvm_regs *vmc_vcpu_regs(struct vmc_vcpu *v)
{
    return &v->run->s.regs.regs;
}
static inline struct kvm_sregs *vmc_vcpu_sregs(struct vmc_vcpu *v)
{
    return &v->run->s.regs.sregs;
}
static inline void vmc_vcpu_dirty(struct vmc_vcpu *v, uint64_t what)
{
    v->run->kvm_dirty_regs |= what;
}

/* The vCPU's entry state, for a vCPU that is not running (load, vcpu_op up). */
void vmc_vcpu_set_entry(struct vmc_vcpu *vcpu, const struct kvm_regs *regs, const struct kvm_sregs *sregs);
/* vmc_vm_run's body (vcpu.c). */
int vmc_vcpu_run_vm(struct vmc_vm *vm, struct vmc_result *res);

#endif /* VMCALL_SRC_VCPU_H */
