/* SPDX-License-Identifier: MIT */
/* Guest test (--mode 32): a 32-bit protected-mode guest on the compat hypercall path. With "ud" as
 * its argument it executes ud2, which the 32-bit default IDT must report. */
#include "vmcall/guest.h"

#define WIN_GFN ((uint32_t)(VMC_HOTADD_BASE >> 12))

static struct vmc_mem_reservation_compat resv(uint32_t *frames, uint32_t nr, uint32_t order)
{
    struct vmc_mem_reservation_compat r = { (uint32_t)(uintptr_t)frames, nr, order, 0, VMC_DOMID_SELF, 0 };
    return r;
}

int main(int argc, char **argv)
{
    const struct vmc_boot_info *bi = vmcg_boot_info();
    printf("mode=%u pointer=%u bits argc=%d argv[1]=%s cmdline=[%s]\n", bi->mode,
           (unsigned)sizeof(void *) * 8, argc, argc > 1 ? argv[1] : "-", vmcg_cmdline());
    if (argc > 1 && !strcmp(argv[1], "ud"))
        __asm__ volatile("ud2");
    struct vmc_time t;
    printf("version=%ld time=%ld 64-bit printf: %llu %lld %llx\n", vmcg_version(0), vmcg_time(&t),
           18446744073709551615ull, -9000000000ll, 0x123456789abcull);
    struct vmc_multicall_entry_compat mc[3] = {
        { .op = VMC_HC_VERSION },
        { .op = 99 },
        { .op = VMC_HC_TIME, .args = { 0xfffffff0u } },
    };
    long r = vmcg_multicall(mc, 3);
    printf("compat multicall=%ld results=%d,%d,%d\n", r, (int)mc[0].result, (int)mc[1].result,
           (int)mc[2].result);

    struct vmc_mem_query q;
    uint32_t f[1] = { WIN_GFN };
    struct vmc_mem_reservation_compat pr = resv(f, 1, 0);
    long pop = vmcg_memory_op(VMC_MEMOP_POPULATE, &pr);
    vmcg_memory_op(VMC_MEMOP_QUERY, &q);
    printf("compat populate=%ld populated=%llu\n", pop, (unsigned long long)q.populated_pages);
    volatile uint32_t *low = (volatile uint32_t *)0x300000;
    *low = 0xdead;
    f[0] = 0x300;
    struct vmc_mem_reservation_compat rr = resv(f, 1, 0);
    long rel = vmcg_memory_op(VMC_MEMOP_RELEASE, &rr);
    printf("compat release=%ld zero=%d\n", rel, *low == 0);
    uint32_t in[1] = { 0x301 }, out[1] = { WIN_GFN + 1 };
    struct vmc_mem_exchange_compat x = { resv(in, 1, 0), resv(out, 1, 0), 0 };
    long xr = vmcg_memory_op(VMC_MEMOP_EXCHANGE, &x);
    printf("compat exchange=%ld nr_exchanged=%u\n", xr, x.nr_exchanged);
    return 7;
}
