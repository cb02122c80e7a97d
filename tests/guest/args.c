/* SPDX-License-Identifier: MIT */
/* Guest test: the program and arguments from `vmcall run GUEST -- ARGS`, and the command line; the exit
 * status is the number of arguments. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    const struct vmc_boot_info *bi = vmcg_boot_info();
    const char *slash = strrchr(argv[0], '/');
    printf("argc=%d\n", argc);
    printf("argv[0] names the program: %s\n", slash ? slash + 1 : argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    printf("argv[argc]=%p\n", (void *)argv[argc]);
    printf("cmdline=[%s] len=%u\n", vmcg_cmdline(), bi->cmdline_len);
    printf("magic=%x abi=%u size=%u ram=%lluM\n", bi->magic, bi->abi_version, bi->size,
           (unsigned long long)(bi->ram_size >> 20));
    return argc - 1;
}
