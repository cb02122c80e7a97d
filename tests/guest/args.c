/* SPDX-License-Identifier: MIT */
/* Guest test: arguments and command line from `vmcall run GUEST -- ARGS`, exit status = argc. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    const struct vmc_boot_info *bi = vmcg_boot_info();
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    printf("argv[argc]=%p\n", (void *)argv[argc]);
    printf("cmdline=[%s] len=%u\n", vmcg_cmdline(), bi->cmdline_len);
    printf("magic=%x abi=%u size=%u ram=%lluM\n", bi->magic, bi->abi_version, bi->size,
           (unsigned long long)(bi->ram_size >> 20));
    return argc;
}
