/* SPDX-License-Identifier: MIT */
/* Unit tests: the port/MMIO bus (registration, lookup, unclaimed accesses, per-address counters). */
#include <errno.h>
#include <stdlib.h>

#include "../../src/bus.h"
#include "../tap.h"

static uint64_t last_addr;
static void *last_opaque;

static int dev(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)vcpu;
    last_addr = addr;
    last_opaque = opaque;
    if (!write)
        memset(data, 0x11, len);
    return 0;
}

static int failing(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)vcpu, (void)opaque, (void)addr, (void)data, (void)len, (void)write;
    return -EIO;
}

int main(void)
{
    static struct vmc_bus bus;
    int a, b, c;
    vmc_bus_init(&bus);
    is_int(vmc_bus_register(&bus, 0x3f8, 8, dev, &a, 0), 0, "register 0x3f8-0x3ff");
    is_int(vmc_bus_register(&bus, 0x60, 1, dev, &b, 0), 0, "register 0x60 (before, out of order)");
    is_int(vmc_bus_register(&bus, 0x400, 2, failing, &c, 0), 0, "register 0x400-0x401 (adjacent)");
    is_int(vmc_bus_register(&bus, 0x3f0, 9, dev, NULL, 0), -EBUSY, "overlap with the start refused");
    is_int(vmc_bus_register(&bus, 0x3ff, 1, dev, NULL, 0), -EBUSY, "overlap with the last byte refused");
    is_int(vmc_bus_register(&bus, 0x3f9, 2, dev, NULL, 0), -EBUSY, "range inside another refused");
    is_int(vmc_bus_register(&bus, 0x300, 0x200, dev, NULL, 0), -EBUSY, "range covering others refused");
    is_int(vmc_bus_register(&bus, 0x10, 0, dev, NULL, 0), -EINVAL, "empty range refused");
    is_int(vmc_bus_register(&bus, UINT64_MAX - 1, 4, dev, NULL, 0), -EINVAL, "wrapping range refused");
    is_int(vmc_bus_register(&bus, 0x500, 1, NULL, NULL, 0), -EINVAL, "NULL handler refused");

    uint8_t d[4] = { 0 };
    vmc_bus_access(&bus, NULL, 0x3fd, d, 1, false);
    is_u64(last_addr, 0x3fd, "lookup inside a range gives the absolute address");
    ok(last_opaque == &a && d[0] == 0x11, "the right handler and opaque");
    vmc_bus_access(&bus, NULL, 0x60, d, 1, true);
    ok(last_opaque == &b, "single-port range");
    is_int(vmc_bus_access(&bus, NULL, 0x401, d, 1, true), -EIO, "a handler's error is returned");

    memset(d, 0, sizeof(d));
    is_int(vmc_bus_access(&bus, NULL, 0x3f7, d, 4, false), 0, "unclaimed read succeeds");
    is_u64(*(uint32_t *)d, 0xffffffff, "unclaimed read is all-ones");
    memset(d, 0x22, sizeof(d));
    vmc_bus_access(&bus, NULL, 0x80, d, 1, true);
    vmc_bus_access(&bus, NULL, 0x80, d, 1, true);
    is_u64(d[0], 0x22, "unclaimed write leaves the data alone");

    struct vmc_addr_stat st[8];
    size_t n = vmc_bus_stats(&bus, st, 8);
    is_int(n, 5, "five addresses seen");
    ok(st[0].addr == 0x60 && st[1].addr == 0x80 && st[2].addr == 0x3f7 && st[3].addr == 0x3fd &&
           st[4].addr == 0x401,
       "stats sorted by address");
    is_u64(st[1].unclaimed_writes, 2, "0x80: two unclaimed writes");
    is_u64(st[2].unclaimed_reads, 1, "0x3f7: one unclaimed read");
    is_u64(st[3].reads, 1, "0x3fd: one claimed read");
    is_u64(st[0].writes, 1, "0x60: one claimed write");
    is_int(vmc_bus_stats(&bus, NULL, 0), 5, "count without a buffer");

    /* Many distinct addresses: the first VMC_BUS_ADDRS_MAX get rows, the rest one "other" row. */
    for (uint64_t p = 0x1000; p < 0x1000 + 300; p++)
        for (int i = 0; i < 3; i++)
            vmc_bus_access(&bus, NULL, p, d, 1, false);
    struct vmc_addr_stat *all = calloc(400, sizeof(*all));
    n = vmc_bus_stats(&bus, all, 400);
    is_int(n, VMC_BUS_ADDRS_MAX + 1, "256 address rows and an \"other\" row: the table does not grow");
    int good = 1;
    for (size_t i = 0; i + 1 < n; i++)
        if (all[i].addr >= 0x1000 && all[i].unclaimed_reads != 3)
            good = 0;
    ok(good, "every counted address kept its count");
    is_u64(all[n - 1].addr, VMC_BUS_OTHER, "\"other\" comes last");
    is_u64(all[n - 1].unclaimed_reads, (305 - VMC_BUS_ADDRS_MAX) * 3, "and holds every later access");
    vmc_bus_count(&bus, 0x80, VMC_COUNT_DENIED);
    vmc_bus_count(&bus, 0x80, VMC_COUNT_IGNORED);
    vmc_bus_count(&bus, 0x5000, VMC_COUNT_DENIED);
    n = vmc_bus_stats(&bus, all, 400);
    ok(all[1].addr == 0x80 && all[1].denied == 1 && all[1].ignored == 1, "policy counts on a known row");
    is_u64(all[n - 1].denied, 1, "and on \"other\" once the table is full");
    free(all);
    vmc_bus_free(&bus);
    return tap_done();
}
