/* SPDX-License-Identifier: MIT */
/* Guest runtime start-up and shutdown: boot info, console set-up, main, exit. */
#include "vmcall/guest.h"

static const struct vmc_boot_info *boot_info;
char *vmcg_hypercall_page;

void vmcg_start(const struct vmc_boot_info *bi);
void vmcg_console_init(void);

const struct vmc_boot_info *vmcg_boot_info(void)
{
    return boot_info;
}

const char *vmcg_cmdline(void)
{
    return (const char *)(uintptr_t)boot_info->cmdline;
}

void exit(int status)
{
    vmcg_shutdown(VMC_SHUTDOWN_POWEROFF, (uint32_t)status);
    vmcg_outl(VMC_PORT_EXIT, (uint32_t)status); /* only if the call was refused (allow-list) */
    for (;;)
        __asm__ volatile("pause");
}

__attribute__((noreturn)) void vmcg_start(const struct vmc_boot_info *bi)
{
    boot_info = bi;
    vmcg_hypercall_page = (char *)(uintptr_t)bi->hypercall_page;
    vmcg_console_init();
    exit(main((int)bi->argc, (char **)(uintptr_t)bi->argv));
}
