/* SPDX-License-Identifier: MIT */
/* memory_op: populate, release, exchange and query guest RAM, with Xen's checks and a per-VM quota. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "internal.h"

/* A reservation in host form, whatever the caller's layout; frames are read with frame_size bytes each. */
struct resv {
    uint64_t extent_start, nr_extents;
    uint32_t extent_order, mem_flags;
    uint16_t domid;
    uint64_t frame_size;
};

static struct resv resv_native(const struct vmc_mem_reservation *r)
{
    return (struct resv){ r->extent_start, r->nr_extents, r->extent_order, r->mem_flags, r->domid, 8 };
}

static struct resv resv_compat(const struct vmc_mem_reservation_compat *r)
{
    return (struct resv){ r->extent_start, r->nr_extents, r->extent_order, r->mem_flags, r->domid, 4 };
}

static int read_frame(struct vmc_hcall *hc, const struct resv *r, uint64_t idx, uint64_t *gfn)
{
    uint64_t addr;
    if (vmc_handle_elem(r->extent_start, idx, r->frame_size, &addr))
        return -EFAULT;
    *gfn = 0;
    return vmc_hc_copy_from(hc, gfn, addr, r->frame_size); /* little-endian: a u32 fills the low half */
}

/* Checks shared by every operation on one extent: frame range, alignment. */
static int extent_range(uint64_t gfn, uint32_t order, uint64_t *gpa, uint64_t *size)
{
    *size = 4096ull << order;
    if (gfn >= (1ull << 40) || (gfn & ((1ull << order) - 1)))
        return -EINVAL;
    *gpa = gfn << 12;
    return 0;
}

/* Can [gpa, gpa+size) become new RAM? */
static int check_populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size, uint64_t extra_pages)
{
    if (gpa < VMC_HOTADD_BASE || size > VMC_HOTADD_SIZE || gpa - VMC_HOTADD_BASE > VMC_HOTADD_SIZE - size)
        return -EINVAL; /* only inside the hot-add window */
    const struct vmc_regions *tab = vm->mem.extra;
    size_t n = tab ? tab->n : 0;
    for (size_t i = 0; i < n; i++) {
        const struct vmc_region *r = &tab->r[i];
        if (gpa < r->gpa + r->size && r->gpa < gpa + size)
            return -EEXIST;
    }
    if (vm->populated_pages + extra_pages + (size >> 12) > vm->max_pages)
        return -ENOMEM; /* --mem-max */
    if (n >= VMC_MAX_REGIONS)
        return -ENOSPC;
    return 0;
}

static int populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size)
{
    int rc = check_populate(vm, gpa, size, 0);
    if (rc)
        return rc;
    struct vmc_regions *old = vm->mem.extra;
    size_t n = old ? old->n : 0;
    struct vmc_regions *tab = malloc(sizeof(*tab) + (n + 1) * sizeof(tab->r[0]));
    if (!tab)
        return -ENOMEM;
    uint8_t *host =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED) {
        free(tab);
        return -ENOMEM;
    }
    /* Slot numbers are never reused within a VM: 1 + number of regions ever added. */
    uint32_t slot = 1;
    for (size_t i = 0; i < n; i++)
        if (old->r[i].slot >= slot)
            slot = old->r[i].slot + 1;
    struct kvm_userspace_memory_region region = {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        munmap(host, size);
        free(tab);
        return -ENOMEM;
    }
    /* A new sorted table, published whole: other vCPUs keep reading the old one meanwhile. */
    size_t i = 0;
    for (; i < n && old->r[i].gpa < gpa; i++)
        tab->r[i] = old->r[i];
    tab->r[i] = (struct vmc_region){ gpa, size, host, slot };
    for (; i < n; i++)
        tab->r[i + 1] = old->r[i];
    tab->n = n + 1;
    tab->older = old;
    atomic_store_explicit(&vm->mem.extra, tab, memory_order_release);
    vm->populated_pages += size >> 12;
    return 0;
}

/* Can [gpa, gpa+size) be given back? It must be populated RAM outside the VMM-owned region. */
static int check_release(struct vmc_vm *vm, uint64_t gpa, uint64_t size)
{
    if (gpa < VMC_LAYOUT_LOAD_MIN)
        return -EPERM;
    return vmc_mem_ptr(&vm->mem, gpa, size) ? 0 : -EINVAL;
}

static int64_t reservation_op(struct vmc_hcall *hc, const struct resv *r, bool pop)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    if (r->domid != VMC_DOMID_SELF || r->mem_flags != 0 || r->extent_order > VMC_MEMOP_MAX_ORDER ||
        r->nr_extents > (UINT32_MAX >> 6))
        return -VMC_EINVAL;
    uint64_t done = 0;
    for (; done < r->nr_extents; done++) {
        uint64_t gfn, gpa, size;
        if (read_frame(hc, r, done, &gfn) || extent_range(gfn, r->extent_order, &gpa, &size))
            break;
        if (pop ? populate(vm, gpa, size) : check_release(vm, gpa, size) || vmc_mem_zero(&vm->mem, gpa, size))
            break;
    }
    return (int64_t)done; /* Xen: the number of extents completed */
}

static int64_t exchange(struct vmc_hcall *hc, struct resv in, struct resv out, uint64_t nr_exchanged,
                        uint64_t nr_addr, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    /* The checks of Xen's memory_exchange(), in its order (abi-reference 2.7). */
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
    while (nr_exchanged < in.nr_extents) {
        uint64_t i0 = nr_exchanged, o0 = nr_exchanged / in_chunk * out_chunk;
        uint64_t gfn, gpa, size, pages = 0;
        /* Validate the whole chunk before changing anything. */
        for (uint64_t k = 0; k < in_chunk && !rc; k++) {
            if (read_frame(hc, &in, i0 + k, &gfn))
                rc = -EFAULT;
            else if (extent_range(gfn, in.extent_order, &gpa, &size) || check_release(vm, gpa, size))
                rc = -EINVAL;
        }
        for (uint64_t k = 0; k < out_chunk && !rc; k++) {
            if (read_frame(hc, &out, o0 + k, &gfn))
                rc = -EFAULT;
            else if (extent_range(gfn, out.extent_order, &gpa, &size))
                rc = -EINVAL;
            else
                rc = check_populate(vm, gpa, size, pages);
            pages += size >> 12;
        }
        for (uint64_t k = 0; k < in_chunk && !rc; k++) {
            read_frame(hc, &in, i0 + k, &gfn);
            extent_range(gfn, in.extent_order, &gpa, &size);
            vmc_mem_zero(&vm->mem, gpa, size);
        }
        for (uint64_t k = 0; k < out_chunk && !rc; k++) {
            read_frame(hc, &out, o0 + k, &gfn);
            extent_range(gfn, out.extent_order, &gpa, &size);
            rc = populate(vm, gpa, size);
        }
        if (rc)
            break;
        nr_exchanged += in_chunk;
    }
    /* Progress goes back to the caller whatever happened. */
    uint32_t n32 = (uint32_t)nr_exchanged;
    if (vmc_hc_copy_to(hc, nr_addr, compat ? (const void *)&n32 : (const void *)&nr_exchanged,
                       compat ? 4 : 8))
        return -VMC_EFAULT;
    return rc == 0         ? 0
           : rc == -EFAULT ? -VMC_EFAULT
           : rc == -ENOMEM ? -VMC_ENOMEM
           : rc == -EEXIST ? -VMC_EEXIST
           : rc == -ENOSPC ? -VMC_ENOSPC
                           : -VMC_EINVAL;
}

static int64_t memory_op(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t cmd = hc->a.args[0], arg = hc->a.args[1];
    if (cmd >> 6)
        return -VMC_EINVAL; /* a start extent: vmcall never creates continuations */
    switch (cmd & VMC_MEMOP_CMD_MASK) {
    case VMC_MEMOP_QUERY: {
        struct vmc_mem_query q = { vm->mem.size, vm->populated_pages, vm->max_pages, VMC_HOTADD_BASE,
                                   VMC_HOTADD_SIZE };
        return vmc_hc_copy_to(hc, arg, &q, sizeof(q)) ? -VMC_EFAULT : 0;
    }
    case VMC_MEMOP_POPULATE:
    case VMC_MEMOP_RELEASE: {
        struct resv r;
        if (compat) {
            struct vmc_mem_reservation_compat c;
            if (vmc_hc_copy_from(hc, &c, arg, sizeof(c)))
                return -VMC_EFAULT;
            r = resv_compat(&c);
        } else {
            struct vmc_mem_reservation n;
            if (vmc_hc_copy_from(hc, &n, arg, sizeof(n)))
                return -VMC_EFAULT;
            r = resv_native(&n);
        }
        return reservation_op(hc, &r, (cmd & VMC_MEMOP_CMD_MASK) == VMC_MEMOP_POPULATE);
    }
    case VMC_MEMOP_EXCHANGE:
        if (compat) {
            struct vmc_mem_exchange_compat c;
            if (vmc_hc_copy_from(hc, &c, arg, sizeof(c)))
                return -VMC_EFAULT;
            return exchange(hc, resv_compat(&c.in), resv_compat(&c.out), c.nr_exchanged,
                            arg + offsetof(struct vmc_mem_exchange_compat, nr_exchanged), true);
        } else {
            struct vmc_mem_exchange n;
            if (vmc_hc_copy_from(hc, &n, arg, sizeof(n)))
                return -VMC_EFAULT;
            return exchange(hc, resv_native(&n.in), resv_native(&n.out), n.nr_exchanged,
                            arg + offsetof(struct vmc_mem_exchange, nr_exchanged), false);
        }
    default:
        return -VMC_ENOSYS;
    }
}

/* One memory_op at a time: they read and change the region table and the page counts. */
static int64_t memory_op_locked(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    pthread_mutex_lock(&vm->memop_lock);
    int64_t r = memory_op(hc, compat);
    pthread_mutex_unlock(&vm->memop_lock);
    return r;
}

int64_t vmc_hc_memory_op(struct vmc_hcall *hc)
{
    return memory_op_locked(hc, false);
}

int64_t vmc_hc_memory_op_compat(struct vmc_hcall *hc)
{
    return memory_op_locked(hc, true);
}

void vmc_mem_free_extra(struct vmc_vm *vm)
{
    struct vmc_regions *tab = vm->mem.extra;
    for (size_t i = 0; tab && i < tab->n; i++)
        munmap(tab->r[i].host, tab->r[i].size);
    while (tab) {
        struct vmc_regions *older = tab->older;
        free(tab);
        tab = older;
    }
    vm->mem.extra = NULL;
}
