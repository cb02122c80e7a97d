/* SPDX-License-Identifier: MIT */
/* memory_op: populate, release, exchange and query guest RAM, with Xen's checks and the VM's limit. */
#include <errno.h>
#include <string.h>

#include "../vm.h"
#include "calls.h"
#include "memop.h"

static struct vmc_resv resv_native(const struct vmc_mem_reservation *r)
{
    return (struct vmc_resv){ r->extent_start, r->nr_extents, r->extent_order, r->mem_flags, r->domid, 8 };
}

static struct vmc_resv resv_compat(const struct vmc_mem_reservation_compat *r)
{
    return (struct vmc_resv){ r->extent_start, r->nr_extents, r->extent_order, r->mem_flags, r->domid, 4 };
}

/* Frames [first, first+n) of a list, each read exactly once, into gfn[]. */
static int read_frames(struct vmc_hcall *hc, const struct vmc_resv *r, uint64_t first, uint64_t n,
                       uint64_t *gfn)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t addr;
        gfn[i] = 0; /* little-endian: a 4-byte compat frame fills the low half */
        if (vmc_handle_elem(r->extent_start, first + i, r->frame_size, &addr) ||
            vmc_hc_copy_from(hc, &gfn[i], addr, r->frame_size))
            return -EFAULT;
    }
    return 0;
}

/* An extent's guest-physical range, if its frame number is valid and naturally aligned. */
static int extent_range(uint64_t gfn, uint32_t order, uint64_t *gpa, uint64_t *size)
{
    *size = 4096ull << order;
    if (gfn >= (1ull << 40) || (gfn & ((1ull << order) - 1)))
        return -EINVAL;
    *gpa = gfn << 12;
    return 0;
}

/* vmcall's memory: a frame can be given back if it is RAM outside the VMM-owned region; it reads zero
 * afterwards and stays populated (counted), so a guest may touch it again. */
static int vmcall_release(struct vmc_vm *vm, uint64_t gpa, uint64_t size, bool check_only)
{
    if (gpa < VMC_LAYOUT_LOAD_MIN)
        return -EPERM;
    if (!vmc_mem_ptr(&vm->mem, gpa, size))
        return -EINVAL;
    return check_only ? 0 : vmc_mem_zero(&vm->mem, gpa, size);
}

static int vmcall_can_populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size, uint64_t pending)
{
    return vmc_mem_can_populate(&vm->mem, gpa, size, pending);
}

static int vmcall_populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size)
{
    return vmc_mem_populate(&vm->mem, vm->kvm, vm->fd, gpa, size);
}

static const struct vmc_memop_ops vmcall_ops = { vmcall_release, vmcall_can_populate, vmcall_populate };

uint64_t vmc_memop_extents(struct vmc_hcall *hc, const struct vmc_resv *r, uint64_t start, bool pop,
                           const struct vmc_memop_ops *ops)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t done = start;
    for (; done < r->nr_extents; done++) {
        uint64_t gfn, gpa, size;
        if (read_frames(hc, r, done, 1, &gfn) || extent_range(gfn, r->extent_order, &gpa, &size))
            break;
        if (pop ? ops->populate(vm, gpa, size) : ops->release(vm, gpa, size, false))
            break;
    }
    return done;
}

/* Populate or release each extent in turn; Xen's result: the number of extents completed. */
static int64_t reservation_op(struct vmc_hcall *hc, const struct vmc_resv *r, bool pop)
{
    if (r->domid != VMC_DOMID_SELF || r->mem_flags != 0 || r->extent_order > VMC_MEMOP_MAX_ORDER ||
        r->nr_extents > (UINT32_MAX >> 6))
        return -VMC_EINVAL;
    return (int64_t)vmc_memop_extents(hc, r, 0, pop, &vmcall_ops);
}

static int64_t to_guest_error(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case -EFAULT:
        return -VMC_EFAULT;
    case -ENOMEM:
        return -VMC_ENOMEM;
    case -EEXIST:
        return -VMC_EEXIST;
    case -ENOSPC:
        return -VMC_ENOSPC;
    default:
        return -VMC_EINVAL;
    }
}

/*
 * One chunk of an exchange: `nin` input and `nout` output extents, copied from the guest's lists once,
 * all validated, then acted on from those copies: outputs populated first (the only step that can still
 * fail, on host exhaustion), then inputs released (which cannot).
 */
static int exchange_chunk(struct vmc_hcall *hc, const struct vmc_memop_ops *ops, const struct vmc_resv *in,
                          const struct vmc_resv *out, uint64_t i0, uint64_t o0, uint64_t nin, uint64_t nout)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t ig[1u << VMC_MEMOP_MAX_ORDER], og[1u << VMC_MEMOP_MAX_ORDER], gpa, size, pending = 0;
    if (read_frames(hc, in, i0, nin, ig) || read_frames(hc, out, o0, nout, og))
        return -EFAULT;
    for (uint64_t k = 0; k < nin; k++)
        if (extent_range(ig[k], in->extent_order, &gpa, &size) || ops->release(vm, gpa, size, true))
            return -EINVAL;
    for (uint64_t k = 0; k < nout; k++) {
        int rc = extent_range(og[k], out->extent_order, &gpa, &size);
        if (!rc)
            rc = ops->can_populate(vm, gpa, size, pending);
        for (uint64_t j = 0; !rc && j < k; j++) /* two outputs of one chunk at the same place */
            if (og[j] == og[k])
                rc = -EEXIST;
        if (rc)
            return rc;
        pending += size >> 12;
    }
    for (uint64_t k = 0; k < nout; k++) {
        extent_range(og[k], out->extent_order, &gpa, &size);
        int rc = ops->populate(vm, gpa, size);
        if (rc)
            return rc;
    }
    for (uint64_t k = 0; k < nin; k++) {
        extent_range(ig[k], in->extent_order, &gpa, &size);
        ops->release(vm, gpa, size, false);
    }
    return 0;
}

static int64_t exchange(struct vmc_hcall *hc, const struct vmc_memop_ops *ops, struct vmc_resv in,
                        struct vmc_resv out, uint64_t nr_exchanged, uint64_t nr_addr, bool compat)
{
    /* The checks of Xen's memory_exchange(), in its order (docs/abi-reference.md, "memory_op"). */
    if ((in.extent_order > out.extent_order ? in.extent_order : out.extent_order) > VMC_MEMOP_MAX_ORDER)
        return -VMC_EPERM;
    if (nr_exchanged > in.nr_extents || in.domid != out.domid || in.domid != VMC_DOMID_SELF || in.mem_flags ||
        out.mem_flags || (UINT64_MAX >> in.extent_order) < in.nr_extents ||
        (UINT64_MAX >> out.extent_order) < out.nr_extents ||
        (in.nr_extents << in.extent_order) != (out.nr_extents << out.extent_order))
        return -VMC_EINVAL;
    if (nr_exchanged == in.nr_extents)
        return 0;
    /* Work in chunks of the larger extent: 2^(out-in) inputs per output, or 2^(in-out) outputs per input. */
    uint64_t in_chunk = in.extent_order < out.extent_order ? 1ull << (out.extent_order - in.extent_order) : 1;
    uint64_t out_chunk =
        in.extent_order > out.extent_order ? 1ull << (in.extent_order - out.extent_order) : 1;
    if (nr_exchanged % in_chunk)
        return -VMC_EINVAL;
    int rc = 0;
    while (nr_exchanged < in.nr_extents && rc == 0) {
        rc = exchange_chunk(hc, ops, &in, &out, nr_exchanged, nr_exchanged / in_chunk * out_chunk, in_chunk,
                            out_chunk);
        if (rc == 0)
            nr_exchanged += in_chunk;
    }
    /* Progress goes back to the caller whatever happened: exactly the chunks completed. */
    uint32_t n32 = (uint32_t)nr_exchanged;
    if (vmc_hc_copy_to(hc, nr_addr, compat ? (const void *)&n32 : (const void *)&nr_exchanged,
                       compat ? 4 : 8))
        return -VMC_EFAULT;
    return to_guest_error(rc);
}

int64_t vmc_memop_read_resv(struct vmc_hcall *hc, uint64_t arg, bool compat, struct vmc_resv *r)
{
    if (compat) {
        struct vmc_mem_reservation_compat c;
        if (vmc_hc_copy_from(hc, &c, arg, sizeof(c)))
            return -VMC_EFAULT;
        *r = resv_compat(&c);
    } else {
        struct vmc_mem_reservation n;
        if (vmc_hc_copy_from(hc, &n, arg, sizeof(n)))
            return -VMC_EFAULT;
        *r = resv_native(&n);
    }
    return 0;
}

int64_t vmc_memop_exchange(struct vmc_hcall *hc, uint64_t arg, bool compat, const struct vmc_memop_ops *ops)
{
    if (compat) {
        struct vmc_mem_exchange_compat c;
        if (vmc_hc_copy_from(hc, &c, arg, sizeof(c)))
            return -VMC_EFAULT;
        return exchange(hc, ops, resv_compat(&c.in), resv_compat(&c.out), c.nr_exchanged,
                        arg + offsetof(struct vmc_mem_exchange_compat, nr_exchanged), true);
    }
    struct vmc_mem_exchange n;
    if (vmc_hc_copy_from(hc, &n, arg, sizeof(n)))
        return -VMC_EFAULT;
    return exchange(hc, ops, resv_native(&n.in), resv_native(&n.out), n.nr_exchanged,
                    arg + offsetof(struct vmc_mem_exchange, nr_exchanged), false);
}

static int64_t memory_op(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t cmd = hc->a.args[0], arg = hc->a.args[1];
    if (cmd >> 6)
        return -VMC_EINVAL; /* a start extent: vmcall never creates continuations */
    switch (cmd & VMC_MEMOP_CMD_MASK) {
    case VMC_MEMOP_QUERY: {
        struct vmc_mem_query q = { vm->mem.size, vm->mem.populated_pages, vm->mem.max_pages, VMC_HOTADD_BASE,
                                   VMC_HOTADD_SIZE };
        return vmc_hc_copy_to(hc, arg, &q, sizeof(q)) ? -VMC_EFAULT : 0;
    }
    case VMC_MEMOP_POPULATE:
    case VMC_MEMOP_RELEASE: {
        struct vmc_resv r;
        int64_t rc = vmc_memop_read_resv(hc, arg, compat, &r);
        return rc ? rc : reservation_op(hc, &r, (cmd & VMC_MEMOP_CMD_MASK) == VMC_MEMOP_POPULATE);
    }
    case VMC_MEMOP_EXCHANGE:
        return vmc_memop_exchange(hc, arg, compat, &vmcall_ops);
    default:
        return -VMC_ENOSYS;
    }
}

int64_t vmc_memop_locked(struct vmc_hcall *hc, bool compat, int64_t (*op)(struct vmc_hcall *hc, bool compat))
{
    struct vmc_mem *mem = &hc->vcpu->vm->mem;
    pthread_mutex_lock(&mem->lock);
    int64_t r = op(hc, compat);
    pthread_mutex_unlock(&mem->lock);
    return r;
}

int64_t vmc_hc_memory_op(struct vmc_hcall *hc)
{
    return vmc_memop_locked(hc, false, memory_op);
}

int64_t vmc_hc_memory_op_compat(struct vmc_hcall *hc)
{
    return vmc_memop_locked(hc, true, memory_op);
}
