/* SPDX-License-Identifier: MIT */
/* Guest test: memory_op query, populate in the hot-add window, release, exchange; quota and every check.
 * Run with --mem 16M --mem-max 20M: 4096 pages of RAM, a limit of 5120. Arguments select other runs. */
#include "vmcall/guest.h"

#define WIN_GFN (VMC_HOTADD_BASE >> 12)

static uint64_t win_pd[512] __attribute__((aligned(4096)));

static struct vmc_mem_reservation resv(uint64_t *frames, uint64_t nr, uint32_t order)
{
    struct vmc_mem_reservation r = { (uint64_t)(uintptr_t)frames, nr, order, 0, VMC_DOMID_SELF, { 0 } };
    return r;
}

static long populate(uint64_t *frames, uint64_t nr, uint32_t order)
{
    struct vmc_mem_reservation r = resv(frames, nr, order);
    return vmcg_memory_op(VMC_MEMOP_POPULATE, &r);
}

static long release(uint64_t *frames, uint64_t nr, uint32_t order)
{
    struct vmc_mem_reservation r = resv(frames, nr, order);
    return vmcg_memory_op(VMC_MEMOP_RELEASE, &r);
}

static void query(const char *when)
{
    struct vmc_mem_query q;
    long r = vmcg_memory_op(VMC_MEMOP_QUERY, &q);
    printf("query %s=%ld ram=%lluM populated=%llu max=%llu window=0x%llx+%lluM\n", when, r,
           (unsigned long long)(q.ram_size >> 20), (unsigned long long)q.populated_pages,
           (unsigned long long)q.max_pages, (unsigned long long)q.hotadd_base,
           (unsigned long long)(q.hotadd_size >> 20));
}

/* The whole limit in 4 KiB extents (run with --mem 4M --mem-max 8M): adjacent extents merge. */
static int small_extents(void)
{
    static uint64_t frames[1025];
    for (int i = 0; i < 1025; i++)
        frames[i] = WIN_GFN + (uint64_t)i;
    printf("populate 1025 adjacent 4 KiB frames=%ld\n", populate(frames, 1025, 0));
    query("after");
    return 0;
}

/*
 * race: vCPU 1 flips an exchange's input frame between a guest page and the VMM's PML4 while vCPU 0
 * exchanges it, again and again (run with --vcpus 2 --mem 16M --mem-max 32M). The VMM reads the list
 * once: each call either releases the guest page (0, nr_exchanged 1, the page zeroed) or refuses the
 * VMM's (-EINVAL, nr_exchanged 0, the page kept). A VMM that validated one read and acted on another
 * would zero the PML4 and the guest would die.
 */
static uint64_t race_in[1];
static volatile long race_stop;
static uint8_t race_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t victim[512] __attribute__((aligned(4096)));

static void flip(void *arg)
{
    (void)arg;
    uint64_t guest = (uint64_t)(uintptr_t)victim >> 12, vmm = VMC_LAYOUT_PML4 >> 12;
    while (!vmcg_atomic_load(&race_stop)) {
        ((volatile uint64_t *)race_in)[0] = vmm;
        ((volatile uint64_t *)race_in)[0] = guest;
    }
}

static int race(void)
{
    enum { CALLS = 500 };
    long exchanged = 0, refused = 0, inconsistent = 0;
    race_in[0] = (uint64_t)(uintptr_t)victim >> 12;
    VMCG_ASSERT_EQ(vmcg_vcpu_start(1, flip, 0, race_stack, sizeof(race_stack)), 0);
    for (uint64_t k = 0; k < CALLS; k++) {
        uint64_t out[1] = { WIN_GFN + k };
        struct vmc_mem_exchange x = { resv(race_in, 1, 0), resv(out, 1, 0), 0 };
        victim[0] = 0xab;
        long r = vmcg_memory_op(VMC_MEMOP_EXCHANGE, &x);
        if (r == 0 && x.nr_exchanged == 1 && victim[0] == 0)
            exchanged++;
        else if (r == -VMC_EINVAL && x.nr_exchanged == 0 && victim[0] == 0xab)
            refused++;
        else
            inconsistent++;
    }
    vmcg_atomic_store(&race_stop, 1);
    while (vmcg_vcpu_is_up(1))
        vmcg_sched_yield();
    printf("race: %d calls, each exchanged or refused whole=%d, the VMM's page intact=%d\n", CALLS,
           exchanged + refused == CALLS && !inconsistent,
           ((volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PML4)[0] != 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "small") == 0)
        return small_extents();
    if (argc > 1 && strcmp(argv[1], "race") == 0)
        return race();
    query("at boot");
    /* Map the first GiB of the hot-add window with 2 MiB pages so that the guest can use new RAM. */
    for (int i = 0; i < 512; i++)
        win_pd[i] = (VMC_HOTADD_BASE + ((uint64_t)i << 21)) | 0x83;
    ((volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PDPT)[4] = (uint64_t)(uintptr_t)win_pd | 3;
    volatile uint64_t *win = (volatile uint64_t *)(uintptr_t)VMC_HOTADD_BASE;

    uint64_t f[4] = { WIN_GFN };
    printf("populate 2M=%ld\n", populate(f, 1, 9));
    win[0] = 0x1234;
    win[511 * 512 / 2] = 0x5678;
    printf("new RAM works=%d\n", win[0] == 0x1234 && win[511 * 512 / 2] == 0x5678);
    printf("populate again=%ld\n", populate(f, 1, 9));
    f[0] = 0x1000; /* 16 MiB: RAM, not the window */
    printf("populate outside window=%ld\n", populate(f, 1, 0));
    f[0] = WIN_GFN + 1;
    printf("populate misaligned=%ld\n", populate(f, 1, 9));
    printf("populate order 10=%ld\n", populate(f, 1, 10));
    struct vmc_mem_reservation bad = resv(f, 1, 0);
    bad.domid = 1;
    printf("populate other domain=%ld\n", vmcg_memory_op(VMC_MEMOP_POPULATE, &bad));
    printf("bad reservation handle=%ld\n", vmcg_memory_op(VMC_MEMOP_POPULATE, (void *)0x7ead00000000ul));
    printf("bad frame list=%ld\n", populate((uint64_t *)0x7ead00000000ul, 1, 0));
    printf("continuation=%ld unknown=%ld\n", vmcg_memory_op(VMC_MEMOP_POPULATE | (1u << 6), &bad),
           vmcg_memory_op(33, &bad));
    query("after populate");

    /* Release: host memory goes back, the frames read as zeros. */
    volatile uint64_t *low = (volatile uint64_t *)0x400000;
    low[0] = 0xdead;
    f[0] = 0x400;
    long rel = release(f, 1, 0);
    printf("release=%ld zero after=%d\n", rel, low[0] == 0);
    f[0] = 0x7;
    printf("release VMM page=%ld\n", release(f, 1, 0));
    f[0] = WIN_GFN + 512;
    printf("release unpopulated=%ld\n", release(f, 1, 0));

    /* Exchange 2 pages of RAM for one order-1 extent in the window. */
    uint64_t in[2] = { 0x500, 0x501 }, out[1] = { WIN_GFN + 512 };
    ((volatile uint64_t *)0x500000)[0] = 7;
    struct vmc_mem_exchange x = { resv(in, 2, 0), resv(out, 1, 1), 0 };
    long r = vmcg_memory_op(VMC_MEMOP_EXCHANGE, &x);
    printf("exchange=%ld nr_exchanged=%llu in zeroed=%d out works=", r, (unsigned long long)x.nr_exchanged,
           ((volatile uint64_t *)0x500000)[0] == 0);
    win[(512 * 4096) / 8] = 99;
    printf("%d\n", win[(512 * 4096) / 8] == 99);
    x.nr_exchanged = 0;
    printf("exchange onto populated=%ld nr_exchanged=%llu\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &x),
           (unsigned long long)x.nr_exchanged);
    struct vmc_mem_exchange y = x;
    y.nr_exchanged = 0;
    y.in.extent_order = 10;
    printf("exchange order too big=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    y = x;
    y.out.nr_extents = 2;
    printf("exchange sizes differ=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    y = x;
    y.nr_exchanged = 3;
    printf("exchange progress past end=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    y = x;
    y.nr_exchanged = 0;
    y.out.domid = 5;
    printf("exchange domains differ=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    y = x;
    y.nr_exchanged = 0;
    y.in.nr_extents = ~0ull;
    y.out.nr_extents = ~0ull >> 1;
    printf("exchange count overflow=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    y = x;
    y.nr_exchanged = 2;
    printf("exchange already done=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, &y));
    printf("exchange bad handle=%ld\n", vmcg_memory_op(VMC_MEMOP_EXCHANGE, (void *)0x7ead00000000ul));
    query("after exchange");

    /* Quota: 5120 - 4096 - 512 - 2 = 510 pages left: one order-8 extent (256) fits, the second does not. */
    uint64_t q[2] = { WIN_GFN + 1024, WIN_GFN + 1280 };
    printf("populate past the limit=%ld\n", populate(q, 2, 8));
    query("at the limit");
    return 0;
}
