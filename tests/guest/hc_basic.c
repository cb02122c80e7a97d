/* SPDX-License-Identifier: MIT */
/* Guest test: every core hypercall from CPL0, success and error paths, the page layout, multicall. */
#include "vmcall/guest.h"

static long raw_doorbell(uint64_t nr)
{
    long ret;
    __asm__ volatile("out %%al, %[port]" : "=a"(ret) : "a"(nr), [port] "i"(VMC_PORT_HYPERCALL) : "memory");
    return ret;
}

/* mc_stop: a multicall whose second entry shuts the VM down (status 9): the third never runs. */
static int multicall_stops(void)
{
    static struct vmc_sched_shutdown sd = { VMC_SHUTDOWN_POWEROFF, 9 };
    struct vmc_multicall_entry mc[3] = {
        { .op = VMC_HC_CONSOLE_WRITE, .args = { (uint64_t)(uintptr_t) "before\n", 7 } },
        { .op = VMC_HC_SCHED_OP, .args = { VMC_SCHEDOP_SHUTDOWN, (uint64_t)(uintptr_t)&sd } },
        { .op = VMC_HC_CONSOLE_WRITE, .args = { (uint64_t)(uintptr_t) "after the shutdown\n", 19 } },
    };
    vmcg_multicall(mc, 3);
    printf("the multicall returned\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "mc_stop"))
        return multicall_stops();
    struct vmc_version v;
    long r = vmcg_version(&v);
    printf("version=%ld abi=%u features=0x%llx vmm=%s\n", r, v.abi_version, (unsigned long long)v.features,
           v.vmm);
    printf("version no struct=%ld\n", vmcg_hypercall1(VMC_HC_VERSION, 0));

    r = vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, (unsigned long)"console_write ok\n", 17);
    printf("console_write=%ld\n", r);
    printf("bad handle=%ld\n", vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, 0x7ead00000000ul, 4));
    printf("too long=%ld\n",
           vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, (unsigned long)"x", VMC_CONSOLE_IO_MAX + 1));
    /* 0x1fff0..0x2000f: the last bytes of a mapped page, then the unmapped stack guard page. */
    printf("cross into unmapped=%ld\n", vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, 0x1fff0, 32));
    /* Map the 2 MiB above RAM to a guest-physical range with no RAM, then write across the edge. */
    uint64_t ram = vmcg_boot_info()->ram_size;
    volatile uint64_t *pd = (volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PD;
    pd[ram >> 21] = ram | 0x83;
    __asm__ volatile("invlpg (%0)" : : "r"(ram) : "memory");
    printf("cross out of RAM=%ld\n", vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, ram - 8, 16));
    pd[ram >> 21] = 0;
    printf("wrapping handle=%ld\n", vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, ~0ul - 15, 32));
    printf("unknown=%ld reserved range=%ld user range=%ld\n", vmcg_hypercall0(50),
           vmcg_hypercall0(VMC_HC_CORE_END), vmcg_hypercall0(VMC_HC_USER_BASE));
    printf("doorbell with nr 1000=%ld nr 2^32+1=%ld\n", raw_doorbell(1000), raw_doorbell((1ull << 32) + 1));

    const unsigned char *page = (const unsigned char *)vmcg_hypercall_page;
    printf("page slot0=%02x%02x stub1=", page[0], page[1]);
    for (int i = 32; i < 40; i++)
        printf("%02x", page[i]);
    printf(" pad=%02x%02x stub127=%02x%02x\n", page[2], page[40], page[127 * 32], page[127 * 32 + 1]);

    struct vmc_time t1, t2;
    vmcg_time(&t1);
    printf("time=%ld bad=%ld\n", vmcg_time(&t2), vmcg_hypercall1(VMC_HC_TIME, 0x10));
    /* An OUT struct whose second half is in the unmapped stack guard page: -EFAULT, the first half kept. */
    volatile uint64_t *edge = (volatile uint64_t *)(uintptr_t)(VMC_LAYOUT_STACK_GUARD - 8);
    *edge = 0x5a5a;
    long into_guard = vmcg_hypercall1(VMC_HC_TIME, VMC_LAYOUT_STACK_GUARD - 8);
    printf("time into the guard page=%ld first half kept=%d\n", into_guard, *edge == 0x5a5a);
    printf("monotonic advances=%d wall after 2020=%d\n", t2.monotonic_ns > t1.monotonic_ns,
           t1.wall_ns > 1577836800ull * 1000000000ull);
    unsigned char rnd[32] = { 0 };
    r = vmcg_random(rnd, sizeof(rnd));
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof(rnd); i++)
        nonzero |= rnd[i];
    printf("random=%ld nonzero=%d too big=%ld\n", r, nonzero != 0, vmcg_random(rnd, VMC_RANDOM_MAX + 1));

    uint64_t t0 = vmcg_monotonic_ns();
    long b = vmcg_sched_block(2000000);
    printf("yield=%ld block=%ld waited>=2ms=%d bad cmd=%ld\n", vmcg_sched_yield(), b,
           vmcg_monotonic_ns() - t0 >= 2000000, vmcg_hypercall2(VMC_HC_SCHED_OP, 77, 0));
    printf("shutdown bad reason=%ld bad handle=%ld\n", vmcg_shutdown(9, 0),
           vmcg_hypercall2(VMC_HC_SCHED_OP, VMC_SCHEDOP_SHUTDOWN, 0x7ead00000000ul));
    printf("block_op without disk=%ld\n", vmcg_block_info(0));
    char in[8];
    printf("console_read=%ld\n", vmcg_console_read(in, sizeof(in)));

    struct vmc_multicall_entry mc[5] = {
        { .op = VMC_HC_VERSION },
        { .op = VMC_HC_TIME, .args = { 0x10 } },
        { .op = VMC_HC_CONSOLE_WRITE, .args = { (uint64_t)(uintptr_t) "mc ok\n", 6 } },
        { .op = VMC_HC_MULTICALL, .args = { (uint64_t)(uintptr_t)mc, 1 } },
        { .op = 99 },
    };
    for (int i = 0; i < 5; i++)
        mc[i].result = 12345;
    r = vmcg_multicall(mc, 5);
    printf("multicall=%ld results=%lld,%lld,%lld,%lld,%lld op0 kept=%llu\n", r, (long long)mc[0].result,
           (long long)mc[1].result, (long long)mc[2].result, (long long)mc[3].result, (long long)mc[4].result,
           (unsigned long long)mc[0].op);
    printf("multicall 65=%ld bad list=%ld empty=%ld\n", vmcg_multicall(mc, VMC_MULTICALL_MAX + 1),
           vmcg_multicall((void *)0x7ead00000000ul, 2), vmcg_multicall(mc, 0));
    return 0;
}
