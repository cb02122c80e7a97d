/* SPDX-License-Identifier: MIT */
/* Demo guest: greet through the serial console, show the boot info, echo its arguments, exit 0. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    const struct vmc_boot_info *bi = vmcg_boot_info();
    printf("Hello from a vmcall guest!\n");
    printf("  %s mode, %llu MiB of RAM, image at [%p, %p), vCPU %u of %u\n",
           (bi->flags & VMC_BOOT_F_USER) ? "user" : "kernel", (unsigned long long)(bi->ram_size >> 20),
           (void *)(uintptr_t)bi->image_start, (void *)(uintptr_t)bi->image_end, bi->vcpu_id + 1,
           bi->vcpu_count);
    for (int i = 1; i < argc; i++)
        printf("  argv[%d] = \"%s\"\n", i, argv[i]);
    return 0;
}
