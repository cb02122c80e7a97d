/* SPDX-License-Identifier: MIT */
/* Benchmark guest: multicall batches vs single calls, and disk throughput; hypercall 64 marks laps. */
#include "vmcall/guest.h"

#define MARK() vmcg_hypercall0(64)

static struct vmc_multicall_entry mc[VMC_MULTICALL_MAX];
static char buf[VMC_BLOCK_MAX_SECTORS * VMC_BLOCK_SECTOR_SIZE] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
    int laps = argc > 1 ? atoi(argv[1]) : 20;
    for (unsigned i = 0; i < VMC_MULTICALL_MAX; i++)
        mc[i].op = VMC_HC_VERSION;
    /* Phase 1: laps of 64 single calls. Phase 2: laps of 4 multicalls of 64. */
    for (int l = 0; l < laps; l++) {
        MARK();
        for (int i = 0; i < 64; i++)
            vmcg_hypercall_any(VMC_HC_VERSION, 0, 0, 0);
    }
    MARK();
    for (int l = 0; l < laps; l++) {
        MARK();
        for (int i = 0; i < 4; i++)
            vmcg_multicall(mc, VMC_MULTICALL_MAX);
    }
    MARK();
    /* Phase 3: read the whole disk in 128 KiB requests; phase 4: write it. */
    struct vmc_block_info bi;
    if (vmcg_block_info(&bi) == 0) {
        uint64_t per = VMC_BLOCK_MAX_SECTORS;
        MARK();
        for (uint64_t s = 0; s + per <= bi.sectors; s += per)
            vmcg_block_read(s, per, buf);
        MARK();
        for (uint64_t s = 0; s + per <= bi.sectors; s += per)
            vmcg_block_write(s, per, buf);
        MARK();
    }
    return 0;
}
