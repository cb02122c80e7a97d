/* SPDX-License-Identifier: MIT */
/* vmcall platform ports: the guest's exit status, and the port the VMM's exception stubs report through. */
#include <string.h>

#include "../vm.h"

static int exit_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)opaque, (void)addr;
    if (!write) {
        memset(data, 0xff, len);
        return 0;
    }
    uint32_t status = 0;
    memcpy(&status, data, len < 4 ? len : 4);
    vmc_vcpu_exit(vcpu, status);
    return 0;
}

/* Reports are decoded on the exit path (exit.c) before any bus lookup; the claim keeps the port out of
 * everyone else's hands, and reads see all-ones. */
static int fault_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)vcpu, (void)opaque, (void)addr;
    if (!write)
        memset(data, 0xff, len);
    return 0;
}

static int platform_create(struct vmc_vm *vm, void **state)
{
    *state = NULL;
    int rc = vmc_vm_register_io(vm, VMC_PORT_EXIT, 4, exit_io, NULL, VMC_IO_F_USER);
    return rc ? rc : vmc_vm_register_io(vm, VMC_PORT_FAULT, 1, fault_io, NULL, 0);
}

VMC_DEVICE(platform, "platform", platform_create, NULL, NULL);
