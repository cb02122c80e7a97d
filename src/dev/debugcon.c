/* SPDX-License-Identifier: MIT */
/* Bochs/QEMU-style debug console on port 0xE9: bytes written go to the console. */
#include "../vm.h"
#include "console.h"

static int debugcon_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len,
                       bool write)
{
    (void)vcpu, (void)addr;
    if (!write) {
        /* Reading 0xE9 returns 0xE9 (Bochs convention): lets a guest detect the port. */
        ((uint8_t *)data)[0] = VMC_PORT_DEBUGCON;
        for (uint32_t i = 1; i < len; i++)
            ((uint8_t *)data)[i] = 0xff;
        return 0;
    }
    vmc_console_putc(opaque, ((uint8_t *)data)[0]);
    return 0;
}

static int debugcon_create(struct vmc_vm *vm, void **state)
{
    *state = NULL;
    return vmc_vm_register_io(vm, VMC_PORT_DEBUGCON, 1, debugcon_io, vmc_vm_dev(vm, VMC_DEV_CONSOLE),
                              VMC_IO_F_USER);
}

VMC_DEVICE(debugcon, "debugcon", debugcon_create, NULL, NULL);
