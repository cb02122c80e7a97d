/* SPDX-License-Identifier: MIT */
/* memory_op's machinery, shared by the personalities: reservations, extents, exchange over a memory model. */
#ifndef VMCALL_SRC_HC_MEMOP_H
#define VMCALL_SRC_HC_MEMOP_H

#include <stdbool.h>
#include <stdint.h>

#include "../hypercall.h"

struct vmc_vm;

/* A reservation in host form, whatever the caller's layout; frames are frame_size bytes each. */
struct vmc_resv {
    uint64_t extent_start, nr_extents;
    uint32_t extent_order, mem_flags;
    uint16_t domid;
    uint64_t frame_size;
};

/* What giving back and populating a frame range means for a personality's memory model. */
struct vmc_memop_ops {
    /* Can [gpa, gpa+size) be given back (check_only), or give it back: 0 or -errno. */
    int (*release)(struct vmc_vm *vm, uint64_t gpa, uint64_t size, bool check_only);
    /* Can it be populated, with `pending` more pages about to be? 0 or -errno. */
    int (*can_populate)(struct vmc_vm *vm, uint64_t gpa, uint64_t size, uint64_t pending);
    int (*populate)(struct vmc_vm *vm, uint64_t gpa, uint64_t size);
};

/* Read a reservation (native or compat layout) once; -VMC_EFAULT on a bad handle. */
int64_t vmc_memop_read_resv(struct vmc_hcall *hc, uint64_t arg, bool compat, struct vmc_resv *r);
/* Populate or give back extents [start, nr_extents) in turn, each frame read once; the number done
 * (counting from 0) when the first one fails. The caller checks domid, flags and order first. */
uint64_t vmc_memop_extents(struct vmc_hcall *hc, const struct vmc_resv *r, uint64_t start, bool pop,
                           const struct vmc_memop_ops *ops);
/* One memory_op at a time, whatever the personality: they read and change the memory map and the page
 * counts (the memory lock). */
int64_t vmc_memop_locked(struct vmc_hcall *hc, bool compat, int64_t (*op)(struct vmc_hcall *hc, bool compat));
/* XENMEM_exchange with Xen's checks in Xen's order, chunk by chunk, progress written back exactly. */
int64_t vmc_memop_exchange(struct vmc_hcall *hc, uint64_t arg, bool compat, const struct vmc_memop_ops *ops);

#endif /* VMCALL_SRC_HC_MEMOP_H */
