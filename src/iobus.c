/* SPDX-License-Identifier: MIT */
/* Port I/O and MMIO buses: non-overlapping ranges, one handler signature, per-address counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CTR_EMPTY UINT64_MAX

void vmc_bus_init(struct vmc_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
    pthread_mutex_init(&bus->ctr_lock, NULL);
}

void vmc_bus_free(struct vmc_bus *bus)
{
    free(bus->ranges);
    free(bus->ctr);
    pthread_mutex_destroy(&bus->ctr_lock);
    memset(bus, 0, sizeof(*bus));
}

int vmc_bus_register(struct vmc_bus *bus, uint64_t base, uint64_t len, vmc_io_fn fn, void *opaque)
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
    bus->ranges[i] = (struct vmc_iorange){ base, len, fn, opaque };
    bus->nranges++;
    return 0;
}

static const struct vmc_iorange *find_range(const struct vmc_bus *bus, uint64_t addr)
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

static struct vmc_counter *ctr_slot(struct vmc_counter *tab, size_t cap, uint64_t addr)
{
    size_t i = hash64(addr) & (cap - 1);
    while (tab[i].addr != CTR_EMPTY && tab[i].addr != addr)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static struct vmc_counter *counter(struct vmc_bus *bus, uint64_t addr)
{
    /* Keep the load factor under 1/2; a failed grow just stops counting new addresses. */
    if ((bus->nctr + 1) * 2 > bus->ctrcap) {
        size_t cap = bus->ctrcap ? bus->ctrcap * 2 : 64;
        struct vmc_counter *tab = malloc(cap * sizeof(*tab));
        if (tab) {
            for (size_t i = 0; i < cap; i++)
                tab[i].addr = CTR_EMPTY;
            for (size_t i = 0; i < bus->ctrcap; i++)
                if (bus->ctr[i].addr != CTR_EMPTY)
                    *ctr_slot(tab, cap, bus->ctr[i].addr) = bus->ctr[i];
            free(bus->ctr);
            bus->ctr = tab;
            bus->ctrcap = cap;
        } else if (bus->nctr + 1 >= bus->ctrcap) {
            return NULL;
        }
    }
    struct vmc_counter *c = ctr_slot(bus->ctr, bus->ctrcap, addr);
    if (c->addr == CTR_EMPTY) {
        memset(c, 0, sizeof(*c));
        c->addr = addr;
        bus->nctr++;
    }
    return c;
}

void vmc_bus_count_policy(struct vmc_bus *bus, uint64_t addr, bool denied)
{
    pthread_mutex_lock(&bus->ctr_lock);
    struct vmc_counter *c = counter(bus, addr);
    if (c)
        (*(denied ? &c->denied : &c->ignored))++;
    pthread_mutex_unlock(&bus->ctr_lock);
}

bool vmc_bus_claimed(const struct vmc_bus *bus, uint64_t addr)
{
    return find_range(bus, addr) != NULL;
}

int vmc_bus_access(struct vmc_bus *bus, struct vmc_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
                   bool write)
{
    const struct vmc_iorange *r = find_range(bus, addr);
    /* Only the counters are locked: handlers run concurrently and lock what they share. */
    pthread_mutex_lock(&bus->ctr_lock);
    struct vmc_counter *c = counter(bus, addr);
    if (c) {
        uint64_t *n =
            r ? (write ? &c->writes : &c->reads) : (write ? &c->unclaimed_writes : &c->unclaimed_reads);
        (*n)++;
    }
    pthread_mutex_unlock(&bus->ctr_lock);
    if (!r) {
        if (!write)
            memset(data, 0xff, len);
        return 0;
    }
    return r->fn(vcpu, r->opaque, addr, data, len, write);
}

static int cmp_stat(const void *a, const void *b)
{
    const struct vmc_addr_stat *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t vmc_bus_stats(const struct vmc_bus *bus, struct vmc_addr_stat *out, size_t max)
{
    if (bus->nctr == 0)
        return 0;
    struct vmc_addr_stat *all = calloc(bus->nctr, sizeof(*all));
    if (!all)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < bus->ctrcap; i++) {
        const struct vmc_counter *c = &bus->ctr[i];
        if (c->addr == CTR_EMPTY)
            continue;
        all[n++] =
            (struct vmc_addr_stat){ c->addr,    c->reads, c->writes, c->unclaimed_reads, c->unclaimed_writes,
                                    c->ignored, c->denied };
    }
    qsort(all, n, sizeof(*all), cmp_stat);
    if (out && max)
        memcpy(out, all, (n < max ? n : max) * sizeof(*all));
    free(all);
    return n;
}
