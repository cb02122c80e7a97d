/* SPDX-License-Identifier: MIT */
/* Guest test (--user): CPL3 callers reach user-callable calls only; handles are checked for U and W. */
#include "vmcall/guest.h"

int main(void)
{
    struct vmc_mem_query q;
    printf("version=%ld\n", vmcg_version(0));
    printf("memory_op=%ld\n", vmcg_memory_op(VMC_MEMOP_QUERY, &q));
    struct vmc_multicall_entry mc[2] = {
        { .op = VMC_HC_VERSION },
        { .op = VMC_HC_MEMORY_OP, .args = { VMC_MEMOP_QUERY, (uint64_t)(uintptr_t)&q } },
    };
    long r = vmcg_multicall(mc, 2);
    printf("multicall=%ld results=%lld,%lld\n", r, (long long)mc[0].result, (long long)mc[1].result);
    printf("read supervisor page=%ld\n", vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, VMC_LAYOUT_GDT, 8));
    printf("write read-only page=%ld\n", vmcg_hypercall2(VMC_HC_TIME, VMC_LAYOUT_BOOT_INFO, 0));
    printf("block_op=%ld\n", vmcg_block_info(0));
    return 0;
}
