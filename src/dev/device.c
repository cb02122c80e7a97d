/* SPDX-License-Identifier: MIT */
/* The one list of device models every VM gets, in creation order. */
#include "device.h"

extern const struct vmc_device_ops vmc_console_ops;
extern const struct vmc_device_ops vmc_platform_ops;
extern const struct vmc_device_ops vmc_debugcon_ops;
extern const struct vmc_device_ops vmc_uart_ops;
extern const struct vmc_device_ops vmc_block_ops;

const struct vmc_device_ops *const vmc_devices[VMC_DEV_COUNT] = {
    [VMC_DEV_CONSOLE] = &vmc_console_ops,   [VMC_DEV_PLATFORM] = &vmc_platform_ops,
    [VMC_DEV_DEBUGCON] = &vmc_debugcon_ops, [VMC_DEV_UART] = &vmc_uart_ops,
    [VMC_DEV_BLOCK] = &vmc_block_ops,
};
