/* SPDX-License-Identifier: MIT */
/* The device model: every device is one file with one ops struct, listed once in dev/device.c. */
#ifndef VMCALL_SRC_DEV_DEVICE_H
#define VMCALL_SRC_DEV_DEVICE_H

struct vmc_vm;

/*
 * A device is created with the VM (in list order, so later devices may use earlier ones' state), claims
 * its ports or MMIO ranges then through vmc_vm_register_io/_mmio (flags say which ports a user-mode guest
 * may reach), is reset to its state at creation by `reset` (snapshots restore through it) and freed by
 * `destroy`. create may leave *state NULL when the VM's configuration does not ask for the device.
 */
struct vmc_device_ops {
    const char *name;
    int (*create)(struct vmc_vm *vm, void **state);
    void (*reset)(void *state);
    void (*destroy)(void *state);
};

/* A device file ends with its one definition: VMC_DEVICE(uart, "uart16550a", create, reset, destroy). */
#define VMC_DEVICE(id, dev_name, create_fn, reset_fn, destroy_fn)                                            \
    const struct vmc_device_ops vmc_##id##_ops = { dev_name, create_fn, reset_fn, destroy_fn }

enum vmc_dev_id {
    VMC_DEV_CONSOLE,  /* output buffer and input of the console (dev/console.c) */
    VMC_DEV_PLATFORM, /* the exit port and the exception-report port (dev/platform.c) */
    VMC_DEV_DEBUGCON, /* port 0xe9 (dev/debugcon.c) */
    VMC_DEV_UART,     /* COM1 (dev/uart.c) */
    VMC_DEV_BLOCK,    /* the disk behind block_op (dev/block.c) */
    VMC_DEV_COUNT,
};
extern const struct vmc_device_ops *const vmc_devices[VMC_DEV_COUNT];

#endif /* VMCALL_SRC_DEV_DEVICE_H */
