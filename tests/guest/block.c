/* SPDX-License-Identifier: MIT */
/* Guest test: the block device. Run with a 16-sector disk whose sector i starts with "sector i". */
#include "vmcall/guest.h"

static char buf[VMC_BLOCK_MAX_SECTORS * VMC_BLOCK_SECTOR_SIZE + 1] __attribute__((aligned(4096)));

static char ro_page[4096] __attribute__((aligned(4096)));
static uint64_t mmio_pd[512] __attribute__((aligned(4096)));

/* rights: a buffer must be RAM, writable for a read, and reachable at the caller's privilege; a refused
 * request changes nothing. CPL0: a page the guest made read-only, the MMIO window; CPL3: a
 * supervisor page (the GDT) and a user read-only page (the boot info). */
static int rights(void)
{
    if (vmcg_boot_info()->flags & VMC_BOOT_F_USER) {
        printf("user: read into supervisor page=%ld write from it=%ld read into read-only page=%ld\n",
               vmcg_block_read(0, 1, (void *)0x1000), vmcg_block_write(5, 1, (const void *)0x1000),
               vmcg_block_read(0, 1, (void *)(uintptr_t)VMC_LAYOUT_BOOT_INFO));
        return 0;
    }
    volatile uint64_t *pt0 = (volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PT0;
    uintptr_t ro = (uintptr_t)ro_page;
    memset(ro_page, 'k', sizeof(ro_page));
    pt0[ro >> 12] &= ~2ull; /* clear W: the page is below 2 MiB, mapped by PT0 */
    for (int i = 0; i < 512; i++)
        mmio_pd[i] = (VMC_MMIO_BASE + ((uint64_t)i << 21)) | 0x83;
    ((volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PDPT)[3] = (uint64_t)(uintptr_t)mmio_pd | 3;
    __asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
    long r = vmcg_block_read(0, 1, ro_page);
    printf("kernel: read into read-only page=%ld kept=%d write from it=%ld\n", r, ro_page[0] == 'k',
           vmcg_block_write(6, 1, ro_page));
    printf("kernel: read into MMIO=%ld write from MMIO=%ld\n",
           vmcg_block_read(0, 1, (void *)(uintptr_t)VMC_MMIO_BASE),
           vmcg_block_write(5, 1, (const void *)(uintptr_t)VMC_MMIO_BASE));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "rights"))
        return rights();
    struct vmc_block_info bi;
    long r = vmcg_block_info(&bi);
    printf("info=%ld sectors=%llu size=%u flags=%u\n", r, (unsigned long long)bi.sectors, bi.sector_size,
           bi.flags);
    r = vmcg_block_read(2, 2, buf);
    printf("read=%ld [%.8s] [%.8s]\n", r, buf, buf + 512);
    memset(buf, 0, 512);
    strcpy(buf, "persisted!");
    r = vmcg_block_write(3, 1, buf);
    printf("write=%ld\n", r);
    memset(buf, 0, 512);
    long rb = vmcg_block_read(3, 1, buf);
    printf("read back=%ld [%.10s]\n", rb, buf);
    printf("last sector=%ld past the end=%ld count 0=%ld count 257=%ld overflow=%ld\n",
           vmcg_block_read(15, 1, buf), vmcg_block_read(15, 2, buf), vmcg_block_read(0, 0, buf),
           vmcg_block_read(0, 257, buf), vmcg_block_read(~0ull, 2, buf));
    printf("bad buffer=%ld buffer crossing into unmapped=%ld bad request=%ld bad op=%ld\n",
           vmcg_block_read(0, 1, (void *)0x7ead00000000ul), vmcg_block_read(0, 2, (void *)0x1fe00),
           vmcg_hypercall2(VMC_HC_BLOCK_OP, VMC_BLOCKOP_READ, 0x10), vmcg_hypercall2(VMC_HC_BLOCK_OP, 9, 0));
    printf("flush=%ld\n", vmcg_block_flush());
    /* With an argument: a big request across many pages, then exit without flushing. */
    if (argc > 1) {
        memset(buf, 'z', 16 * 512);
        printf("big write=%ld\n", vmcg_block_write(4, 8, buf));
    }
    return 0;
}
