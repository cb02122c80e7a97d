/* SPDX-License-Identifier: MIT */
/* Port I/O and MMIO buses: non-overlapping ranges, one handler signature, bounded lock-free counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "util.h"

#define CTR_EMPTY 0ull /* addresses are stored + 1, so that a zeroed table is empty */

void vmc_bus_init(struct vmc_bus *bus)
{
    /* The counter table is 28 KiB of zeroes already (the VM is calloc'ed): touching it would cost page
     * faults on the way to the first instruction. */
    bus->ranges = NULL;
    bus->nranges = bus->cap = 0;
    bus->other.addr = VMC_BUS_OTHER;
}

void vmc_bus_free(struct vmc_bus *bus)
{
    free(bus->ranges);
    bus->ranges = NULL;
    bus->nranges = bus->cap = 0;
}

int vmc_bus_register(struct vmc_bus *bus, uint64_t base, uint64_t len, vmc_io_fn fn, void *opaque,
                     unsigned flags)
{
    if (!fn || len == 0 || base + len - 1 < base)
        return -EINVAL;
    size_t i = 0;
    while (i < bus->nranges && bus->ranges[i].base < base)
        i++;
    /* Neighbours on both sides must end before / start after the new range. */
    if (i > 0) {
        const struct vmc_iorange *p = &bus->ranges[i - 1];
        if (p->base + p->len - 1 >= base)
            return -EBUSY;
    }
    if (i < bus->nranges && bus->ranges[i].base <= base + len - 1)
        return -EBUSY;
    if (bus->nranges == bus->cap) {
        size_t cap = bus->cap ? bus->cap * 2 : 8;
        struct vmc_iorange *r = realloc(bus->ranges, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        bus->ranges = r;
        bus->cap = cap;
    }
    memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nranges - i) * sizeof(bus->ranges[0]));
    bus->ranges[i] = (struct vmc_iorange){ base, len, fn, opaque, flags };
    bus->nranges++;
    return 0;
}

const struct vmc_iorange *vmc_bus_find(const struct vmc_bus *bus, uint64_t addr)
{
    size_t lo = 0, hi = bus->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vmc_iorange *r = &bus->ranges[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The counter of addr: its slot, a newly claimed one while the table has room, else "other". */
static struct vmc_counter *counter(struct vmc_bus *bus, uint64_t addr)
{
    const size_t cap = ARRAY_SIZE(bus->ctr);
    uint64_t key = addr + 1;
    if (key == CTR_EMPTY)
        return &bus->other;
    for (size_t i = hash64(addr) & (cap - 1), probes = 0; probes < cap; i = (i + 1) & (cap - 1), probes++) {
        struct vmc_counter *c = &bus->ctr[i];
        uint64_t k = __atomic_load_n(&c->addr, __ATOMIC_ACQUIRE);
        if (k == key)
            return c;
        if (k != CTR_EMPTY)
            continue;
        /* Claim only while under the bound; a lost race to the same slot retries on the winner's key. */
        if (__atomic_fetch_add(&bus->nctr, 1, __ATOMIC_RELAXED) >= VMC_BUS_ADDRS_MAX) {
            __atomic_fetch_sub(&bus->nctr, 1, __ATOMIC_RELAXED);
            return &bus->other;
        }
        uint64_t expect = CTR_EMPTY;
        if (__atomic_compare_exchange_n(&c->addr, &expect, key, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return c;
        __atomic_fetch_sub(&bus->nctr, 1, __ATOMIC_RELAXED);
        if (expect == key)
            return c;
    }
    return &bus->other;
}

void vmc_bus_count(struct vmc_bus *bus, uint64_t addr, enum vmc_count_kind kind)
{
    struct vmc_counter *c = counter(bus, addr);
    STAT_ADD(*(kind == VMC_COUNT_DENIED ? &c->denied : &c->ignored), 1);
}

int vmc_bus_access(struct vmc_bus *bus, struct vmc_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
                   bool write)
{
    const struct vmc_iorange *r = vmc_bus_find(bus, addr);
    struct vmc_counter *c = counter(bus, addr);
    STAT_ADD(*(r ? (write ? &c->writes : &c->reads) : (write ? &c->unclaimed_writes : &c->unclaimed_reads)),
             1);
    if (!r) {
        if (!write)
            memset(data, 0xff, len);
        return 0;
    }
    return r->fn(vcpu, r->opaque, addr, data, len, write);
}

static struct vmc_addr_stat stat_of(const struct vmc_counter *c, uint64_t addr)
{
    return (struct vmc_addr_stat){ addr,
                                   STAT_GET(c->reads),
                                   STAT_GET(c->writes),
                                   STAT_GET(c->unclaimed_reads),
                                   STAT_GET(c->unclaimed_writes),
                                   STAT_GET(c->ignored),
                                   STAT_GET(c->denied) };
}

static int cmp_stat(const void *a, const void *b)
{
    const struct vmc_addr_stat *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t vmc_bus_stats(const struct vmc_bus *bus, struct vmc_addr_stat *out, size_t max)
{
    struct vmc_addr_stat all[ARRAY_SIZE(bus->ctr) + 1];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(bus->ctr); i++) {
        uint64_t k = __atomic_load_n(&bus->ctr[i].addr, __ATOMIC_ACQUIRE);
        if (k != CTR_EMPTY)
            all[n++] = stat_of(&bus->ctr[i], k - 1);
    }
    qsort(all, n, sizeof(all[0]), cmp_stat);
    struct vmc_addr_stat o = stat_of(&bus->other, VMC_BUS_OTHER);
    if (o.reads | o.writes | o.unclaimed_reads | o.unclaimed_writes | o.ignored | o.denied)
        all[n++] = o;
    if (out && max)
        memcpy(out, all, (n < max ? n : max) * sizeof(all[0]));
    return n;
}
