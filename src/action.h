/* SPDX-License-Identifier: MIT */
/* What the run loop does after an exit: the only output of exit handlers (they decide, the loop acts). */
#ifndef VMCALL_SRC_ACTION_H
#define VMCALL_SRC_ACTION_H

#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

/* Why a vCPU's run ends: the result of a stopping exit (the VM's result when it is the stopping vCPU). */
struct vmc_stop_req {
    enum vmc_stop stop;
    uint32_t status;
    enum vmc_crash crash;
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    bool frame_valid; /* rip/rsp/... below come from an exception frame */
    uint64_t rip, rsp, rflags;
    uint16_t cs, ss;
    bool reboot;     /* VMC_STOP_EXIT: the guest asked to be restarted (vmc_result.reboot) */
    uint8_t signal;  /* VMC_STOP_EXIT: a Linux program ended by this signal (vmc_result.signal) */
    bool exit_valid; /* exit below replaces the decoded exit in the result (exception reports) */
    struct vmc_exit exit;
};

enum vmc_act_kind {
    VMC_ACT_CONTINUE, /* re-enter the guest */
    VMC_ACT_BLOCK, /* wait until an interrupt is pending, the VM stops, or `until` (monotonic ns, 0: none) */
    VMC_ACT_HALT,  /* BLOCK as the HLT activity state (counted, shown in the control block) */
    VMC_ACT_DOWN,  /* this vCPU goes down until brought up again; the last one down ends the VM */
    VMC_ACT_STOP,  /* the VM ends: `stop` says why */
    VMC_ACT_IO_FAULT, /* undo the intercepted I/O instruction (`io`) and raise `fault` at it */
    VMC_ACT_ERROR,    /* the VMM failed: `rc`, message recorded on the VM */
};

struct vmc_vcpu;

struct vmc_action {
    enum vmc_act_kind kind;
    int rc;
    uint64_t until;
    bool (*wake)(struct vmc_vcpu *vcpu); /* BLOCK: what ends the wait early (NULL: a pending event) */
    struct vmc_stop_req stop;
    struct vmc_event fault;
    uint16_t io_port;
    uint8_t io_size;
    bool io_in;
    /* A hypercall continuation (Xen's hypercall_create_continuation): the doorbell instruction runs again
     * after the action, with the argument registers the handler left (the work that remains). */
    bool restart;
};

/* Handlers only ever make an action more final: continue < block < down < stop/error. */
static inline bool vmc_act_final(const struct vmc_action *a)
{
    return a->kind == VMC_ACT_DOWN || a->kind == VMC_ACT_STOP || a->kind == VMC_ACT_ERROR ||
           a->kind == VMC_ACT_IO_FAULT;
}
static inline void vmc_act_stop(struct vmc_action *a, enum vmc_stop stop, uint32_t status)
{
    if (a->kind == VMC_ACT_STOP || a->kind == VMC_ACT_ERROR)
        return; /* the first stop is the one the result reports */
    a->kind = VMC_ACT_STOP;
    a->stop = (struct vmc_stop_req){ .stop = stop, .status = status };
}
static inline void vmc_act_crash(struct vmc_action *a, enum vmc_crash crash, uint32_t status)
{
    vmc_act_stop(a, VMC_STOP_CRASH, status);
    if (a->stop.stop == VMC_STOP_CRASH && !a->stop.crash)
        a->stop.crash = crash;
}
static inline void vmc_act_down(struct vmc_action *a)
{
    if (!vmc_act_final(a))
        a->kind = VMC_ACT_DOWN;
}
static inline void vmc_act_block(struct vmc_action *a, uint64_t until)
{
    if (a->kind == VMC_ACT_CONTINUE) {
        a->kind = VMC_ACT_BLOCK;
        a->until = until;
    }
}
static inline void vmc_act_wait(struct vmc_action *a, bool (*wake)(struct vmc_vcpu *vcpu))
{
    if (a->kind == VMC_ACT_CONTINUE) {
        a->kind = VMC_ACT_BLOCK;
        a->wake = wake;
    }
}
static inline void vmc_act_error(struct vmc_action *a, int rc)
{
    if (a->kind != VMC_ACT_ERROR) {
        a->kind = VMC_ACT_ERROR;
        a->rc = rc;
    }
}

#endif /* VMCALL_SRC_ACTION_H */
