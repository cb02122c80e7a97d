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

void vmcg_assert_fail(const char *file, int line, const char *expr, int values, unsigned long long a,
                      unsigned long long b)
{
    if (values)
        printf("ASSERT FAILED %s:%d: %s (0x%llx vs 0x%llx)\n", file, line, expr, a, b);
    else
        printf("ASSERT FAILED %s:%d: %s\n", file, line, expr);
    vmcg_shutdown(VMC_SHUTDOWN_CRASH, VMCG_ASSERT_STATUS);
    exit(125); /* only if the crash shutdown was refused (allow-list) */
}

/* How this guest was built, for the VMM (abi.h, "the guest note"): the SDK's build says the mode. */
#if defined(__i386__)
#define VMCG_NOTE_MODE VMC_GUEST_32
#elif defined(VMCG_USER_MODE)
#define VMCG_NOTE_MODE VMC_GUEST_USER
#else
#define VMCG_NOTE_MODE VMC_GUEST_KERNEL
#endif
__attribute__((used, section(".note.vmcall"), aligned(4))) static const struct {
    uint32_t namesz, descsz, type;
    char name[8];
    struct vmc_guest_note desc;
} vmcg_note = { sizeof(VMC_NOTE_NAME),
                sizeof(struct vmc_guest_note),
                VMC_NOTE_GUEST,
                VMC_NOTE_NAME,
                { VMC_ABI_VERSION, VMCG_NOTE_MODE } };

/* The guest's main, with or without parameters: the x86 calling conventions let a caller pass arguments
 * a callee ignores, which is how every C runtime calls main. */
int main(int argc, char **argv);

__attribute__((noreturn)) void vmcg_start(const struct vmc_boot_info *bi)
{
    boot_info = bi;
    vmcg_hypercall_page = (char *)(uintptr_t)bi->hypercall_page;
    vmcg_console_init();
#if UINTPTR_MAX == 0xffffffffu
    /* The VMM's argv[] holds 64-bit addresses: narrow them into a 32-bit pointer array. */
    static char *argv32[(VMC_LAYOUT_CMDLINE_SIZE / 8) + 1];
    const uint64_t *argv64 = (const uint64_t *)(uintptr_t)bi->argv;
    for (uint32_t i = 0; i <= bi->argc && i < VMC_LAYOUT_CMDLINE_SIZE / 8; i++)
        argv32[i] = (char *)(uintptr_t)argv64[i];
    exit(main((int)bi->argc, argv32));
#else
    exit(main((int)bi->argc, (char **)(uintptr_t)bi->argv));
#endif
}
