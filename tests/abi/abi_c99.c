/* SPDX-License-Identifier: MIT */
/* abi.h compiled alone as strict C99: it must need nothing but itself and freestanding headers. */
#include "vmcall/abi.h"

int abi_c99_boot_info_size(void);
int abi_c99_boot_info_size(void)
{
    return (int)sizeof(struct vmc_boot_info);
}
