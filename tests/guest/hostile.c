/* SPDX-License-Identifier: MIT */
/* Hostile guest for the hardening tests: floods the console, writes the disk without end, or touches
 * one new unclaimed MMIO address after another, or keeps every kind of VMM thread busy. */
#include "vmcall/guest.h"

static char buf[4096] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

/* flood [LINES]: numbered 32-byte lines, forever or LINES of them, written 4 KiB at a time. */
static int flood(unsigned long lines)
{
    unsigned long n = 0;
    for (;;) {
        size_t len = 0;
        while (len + 32 <= sizeof(buf) && (!lines || n < lines))
            len += (size_t)snprintf(buf + len, 33, "flood line %020lu\n", n++);
        if (!len)
            return 0;
        vmcg_console_write(buf, len);
    }
}

/* disk: sector i gets "sector %08d" for i = 0, 1, ... and each is reported once written. */
static int disk(void)
{
    struct vmc_block_info bi;
    if (vmcg_block_info(&bi) < 0)
        return 2;
    for (uint64_t i = 0; i < bi.sectors; i++) {
        memset(buf, 0, 512);
        snprintf(buf, 512, "sector %08lu\n", (unsigned long)i);
        if (vmcg_block_write(i, 1, buf) != 0)
            return 3;
        printf("wrote %lu\n", (unsigned long)i);
    }
    printf("disk full\n");
    for (;;)
        vmcg_sched_block(0);
}

/* mmio N: read N distinct unclaimed addresses in the MMIO window (mapped with 2 MiB pages). */
static int mmio(unsigned long n)
{
    for (int i = 0; i < 512; i++)
        pd[i] = (VMC_MMIO_BASE + ((uint64_t)i << 21)) | 0x83; /* present, writable, 2 MiB */
    volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PDPT;
    pdpt[3] = (uint64_t)(uintptr_t)pd | 0x3;
    __asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
    uint32_t all = 0xffffffff;
    for (unsigned long i = 0; i < n; i++)
        all &= *(volatile uint32_t *)(uintptr_t)(VMC_MMIO_BASE + i * 8 % (1ul << 30));
    printf("read %lu addresses: 0x%x\n", n, all);
    return 0;
}

static void spin(void *arg)
{
    (void)arg;
    for (;;)
        __asm__ volatile("pause");
}

/* threads: every kind of VMM thread busy at once (a second vCPU, the guest timer, the console writer),
 * then spin until stopped. */
static int threads(void)
{
    static char stack[16384] __attribute__((aligned(16)));
    if (vmcg_set_timer(vmcg_monotonic_ns() + 3600000000000ull, 0x40) < 0 ||
        vmcg_vcpu_start(1, spin, NULL, stack, sizeof(stack)) < 0)
        return 2;
    printf("ready\n");
    spin(NULL);
    return 0;
}

/* wait: block in the VMM for good (sched_op block without a timeout, or HLT with interrupts on): only
 * --timeout or a cancel ends it. */
static int wait_forever(bool halt)
{
    printf("waiting\n");
    if (halt)
        vmcg_irq_enable();
    for (;;) {
        if (halt)
            vmcg_halt();
        else
            vmcg_sched_block(0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "flood"))
        return flood(n);
    if (!strcmp(mode, "disk"))
        return disk();
    if (!strcmp(mode, "mmio"))
        return mmio(n);
    if (!strcmp(mode, "threads"))
        return threads();
    if (!strcmp(mode, "block") || !strcmp(mode, "halt"))
        return wait_forever(mode[0] == 'h');
    printf("usage: hostile flood [LINES] | disk | mmio N | threads | block | halt\n");
    return 1;
}
