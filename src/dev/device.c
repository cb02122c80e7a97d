/* SPDX-License-Identifier: MIT */
/* The one list of device models every VM gets, in creation order. */
#include "../internal.h"

extern const struct vmc_device_ops vmc_platform_ops;
extern const struct vmc_device_ops vmc_debugcon_ops;
extern const struct vmc_device_ops vmc_uart_ops;
extern const struct vmc_device_ops vmc_hypercall_ops;

const struct vmc_device_ops *const vmc_devices[] = {
    &vmc_platform_ops,
    &vmc_debugcon_ops,
    &vmc_uart_ops,
    &vmc_hypercall_ops,
};
const size_t vmc_ndevices = ARRAY_SIZE(vmc_devices);
