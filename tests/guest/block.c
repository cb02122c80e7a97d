/* SPDX-License-Identifier: MIT */
/* Guest test: the block device. Run with a 16-sector disk whose sector i starts with "sector i". */
#include "vmcall/guest.h"

static char buf[VMC_BLOCK_MAX_SECTORS * VMC_BLOCK_SECTOR_SIZE + 1] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
    (void)argv;
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
    if (argc > 0) {
        memset(buf, 'z', 16 * 512);
        printf("big write=%ld\n", vmcg_block_write(4, 8, buf));
    }
    return 0;
}
