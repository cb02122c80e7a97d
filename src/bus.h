/* SPDX-License-Identifier: MIT */
/* Port I/O and MMIO buses: address ranges -> handlers, and bounded per-address access counters. */
#ifndef VMCALL_SRC_BUS_H
#define VMCALL_SRC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_iorange {
    uint64_t base, len;
    vmc_io_fn fn;
    void *opaque;
    unsigned flags; /* VMC_IO_F_USER */
};

/*
 * Per-address counters: the first VMC_BUS_ADDRS_MAX distinct addresses a guest touches are counted
 * individually, every further one in a single "other" row (addr VMC_BUS_OTHER), so that a guest cannot
 * grow VMM memory by touching new addresses. Slots are claimed with a compare-and-swap and counted with
 * relaxed atomics: vCPUs count concurrently without a lock.
 */
#define VMC_BUS_ADDRS_MAX 256u
#define VMC_BUS_OTHER UINT64_MAX
struct vmc_counter {
    uint64_t addr; /* the address + 1; 0 while the slot is free */
    uint64_t reads, writes, unclaimed_reads, unclaimed_writes, ignored, denied;
};
enum vmc_count_kind { VMC_COUNT_ACCESS, VMC_COUNT_IGNORED, VMC_COUNT_DENIED };

struct vmc_bus {
    struct vmc_iorange *ranges; /* sorted by base, non-overlapping; changed only while the VM is stopped */
    size_t nranges, cap;
    struct vmc_counter ctr[2 * VMC_BUS_ADDRS_MAX]; /* open addressing, load factor <= 1/2 */
    struct vmc_counter other;
    uint32_t nctr; /* slots claimed */
};

/* Initialise a bus in zeroed memory. */
void vmc_bus_init(struct vmc_bus *bus);
void vmc_bus_free(struct vmc_bus *bus);
/* -EINVAL for an empty or wrapping range or no handler, -EBUSY for an overlap, -ENOMEM. */
int vmc_bus_register(struct vmc_bus *bus, uint64_t base, uint64_t len, vmc_io_fn fn, void *opaque,
                     unsigned flags);
/* The range holding addr, or NULL. */
const struct vmc_iorange *vmc_bus_find(const struct vmc_bus *bus, uint64_t addr);
/* Dispatch one access and count it; unclaimed reads fill data with 0xff, writes are dropped. Returns the
 * handler's result. */
int vmc_bus_access(struct vmc_bus *bus, struct vmc_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
                   bool write);
/* Count an access the I/O policy stopped before the bus. */
void vmc_bus_count(struct vmc_bus *bus, uint64_t addr, enum vmc_count_kind kind);
/* Counters in address order ("other" last), up to max; returns how many there are. */
size_t vmc_bus_stats(const struct vmc_bus *bus, struct vmc_addr_stat *out, size_t max);

#endif /* VMCALL_SRC_BUS_H */
