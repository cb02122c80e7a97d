/* SPDX-License-Identifier: MIT */
/* Several vCPUs: vcpu_op (up, down, is_up, self), send_ipi and set_timer. */
#include <errno.h>
#include <string.h>

#include "../arch/x86_64/layout.h"
#include "../arch/x86_64/x86.h"
#include "../vm.h"
#include "calls.h"

static bool irq_vector_ok(uint64_t vector)
{
    return vector >= X86_VEC_FIRST_IRQ && vector <= 255;
}

struct up_ctx {
    const struct kvm_sregs *caller;
    struct vmc_vcpu_up up;
};

/* Runs with the sched lock held while the target is down: its state may be written from here. */
static void prepare_up(struct vmc_vcpu *target, void *arg)
{
    const struct up_ctx *c = arg;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    vmc_x86_init_ap_state(c->caller, target->id, &c->up, &regs, &sregs);
    vmc_vcpu_set_entry(target, &regs, &sregs);
    vmc_event_reset(target);
    vmc_timer_set(target, 0, 0);
}

/* Start `target` in the caller's context (abi.h, VMC_HC_VCPU_OP). */
static int64_t vcpu_up(struct vmc_hcall *hc, struct vmc_vcpu *target)
{
    VMC_HANDLE(struct vmc_vcpu_up) in;
    vmc_handle(in, hc->a.args[2]);
    struct up_ctx c = { .caller = vmc_vcpu_sregs(hc->vcpu) };
    if (copy_from_guest(hc, &c.up, in, 1))
        return -VMC_EFAULT;
    if (hc->a.compat) {
        c.up.entry = (uint32_t)c.up.entry;
        c.up.stack = (uint32_t)c.up.stack;
        c.up.arg = (uint32_t)c.up.arg;
    }
    int rc = vmc_sched_vcpu_up(target, prepare_up, &c);
    return rc == -EBUSY ? -VMC_EBUSY : rc == -EAGAIN ? -VMC_EAGAIN : 0;
}

int64_t vmc_hc_vcpu_op(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t cmd = hc->a.args[0], id = hc->a.args[1];
    if (cmd == VMC_VCPUOP_SELF)
        return hc->vcpu->id;
    if (cmd != VMC_VCPUOP_UP && cmd != VMC_VCPUOP_DOWN && cmd != VMC_VCPUOP_IS_UP)
        return -VMC_EINVAL;
    if (id >= vm->nvcpus)
        return -VMC_ENOENT;
    struct vmc_vcpu *target = &vm->vcpus[id];
    if (cmd == VMC_VCPUOP_UP)
        return vcpu_up(hc, target);
    if (cmd == VMC_VCPUOP_IS_UP)
        return vmc_sched_vcpu_is_up(target);
    if (target == hc->vcpu)
        vmc_act_down(hc->act);
    else
        vmc_sched_vcpu_down(target); /* it stays up until its thread has left the guest */
    return 0;
}

int64_t vmc_hc_send_ipi(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t id = hc->a.args[0], vector = hc->a.args[1];
    if (id >= vm->nvcpus)
        return -VMC_ENOENT;
    if (!irq_vector_ok(vector))
        return -VMC_EINVAL;
    vmc_event_raise_irq(&vm->vcpus[id], (uint8_t)vector);
    return 0;
}

static int64_t set_timer(struct vmc_hcall *hc, uint64_t deadline, uint64_t vector)
{
    if (deadline && !irq_vector_ok(vector))
        return -VMC_EINVAL;
    return vmc_timer_set(hc->vcpu, deadline, (uint8_t)vector) ? -VMC_EAGAIN : 0;
}

int64_t vmc_hc_set_timer(struct vmc_hcall *hc)
{
    return set_timer(hc, hc->a.args[0], hc->a.args[1]);
}

/* 32-bit callers: (deadline low, deadline high, vector). */
int64_t vmc_hc_set_timer_compat(struct vmc_hcall *hc)
{
    return set_timer(hc, (uint32_t)hc->a.args[0] | (hc->a.args[1] << 32), hc->a.args[2]);
}
