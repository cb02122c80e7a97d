/* SPDX-License-Identifier: MIT */
/* vmcall platform ports: the guest's exit status, and exception reports from the default IDT stubs. */
#include <string.h>

#include "../internal.h"

static int exit_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)opaque;
    (void)addr;
    if (!write) {
        memset(data, 0xff, len);
        return 0;
    }
    uint32_t status = 0;
    memcpy(&status, data, len < 4 ? len : 4);
    vmc_vcpu_exit(vcpu, status);
    return 0;
}

static int fault_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)opaque;
    (void)addr;
    if (!write) {
        memset(data, 0xff, len);
        return 0;
    }
    struct vmc_stop_req *req = &vcpu->req;
    const struct kvm_regs *r = &vcpu->run->s.regs.regs;
    const struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
    req->stop = VMC_STOP_CRASH;
    req->crash = VMC_CRASH_EXCEPTION;
    /*
     * Only the VMM's stubs, at CPL0 on the IST stack, ring this port. The frame is copied once and then
     * validated; a port write from anywhere else reads as a garbled report, never as a host fault.
     */
    struct vmc_fault_frame f;
    bool ok;
    if (s->efer & (1ull << 10)) { /* long mode: 64-bit frame, read through the guest's page tables */
        ok = vmc_gva_read(&vcpu->vm->mem, s->cr3, r->rsp, 0, &f, sizeof(f)) == 0;
    } else { /* 32-bit guests run with paging off: a frame of 32-bit words at ESP, no ESP/SS pushed */
        uint32_t w[5] = { 0 };
        ok = !(s->cr0 & (1ull << 31)) && vmc_mem_read(&vcpu->vm->mem, (uint32_t)r->rsp, w, sizeof(w)) == 0;
        f = (struct vmc_fault_frame){ w[0], w[1], w[2], w[3], w[4], (uint32_t)r->rsp + 20, s->ss.selector };
    }
    if ((s->cs.selector & 3) != 0 || !ok || f.vector > 31) {
        req->crash = VMC_CRASH_UNHANDLED_EXIT;
        return 0;
    }
    req->vector = (uint8_t)f.vector;
    req->error_code = (uint32_t)f.error_code;
    req->has_error_code = vmc_x86_exc_has_error_code((unsigned)f.vector);
    req->frame_valid = true;
    /* Present the stop as the exception exit VMX would have taken (SDM 27.2.2): reason 0, the
     * interruption information, and for #PF the faulting address as qualification. */
    struct vmc_exit *ex = &vcpu->exit;
    ex->reason = VMC_EXIT_EXCEPTION_NMI;
    ex->intr_info = (1u << 31) | (3u << 8) | (req->has_error_code ? 1u << 11 : 0) | req->vector;
    ex->intr_error = req->has_error_code ? req->error_code : 0;
    ex->qualification = req->vector == 14 ? s->cr2 : 0;
    ex->insn_len = 0;
    req->rip = f.rip;
    req->cs = (uint16_t)f.cs;
    req->rflags = f.rflags;
    req->rsp = f.rsp;
    req->ss = (uint16_t)f.ss;
    return 0;
}

static int platform_create(struct vmc_vm *vm, void **state)
{
    *state = NULL;
    int rc = vmc_io_register(vm, VMC_PORT_EXIT, 4, exit_io, NULL);
    if (rc == 0)
        rc = vmc_io_register(vm, VMC_PORT_FAULT, 1, fault_io, NULL);
    return rc;
}

const struct vmc_device_ops vmc_platform_ops = {
    .name = "platform",
    .create = platform_create,
};
