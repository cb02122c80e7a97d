/* SPDX-License-Identifier: MIT */
/* Xen's memory_op: reservations with ballooning, exchange, the reservation queries, the memory map, and
 * add_to_physmap for the shared-info and grant-table frames. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../hc/memop.h"
#include "calls.h"

/* ---- the memory model: boot RAM pages can be ballooned out and populated again ---------------- */

static bool boot_page(const struct vmc_vm *vm, uint64_t gpa, uint64_t size)
{
    return gpa < vm->mem.size && size <= vm->mem.size - gpa;
}

static bool ballooned(const struct vmc_xen *x, uint64_t pfn)
{
    return (x->ballooned[pfn / 64] >> (pfn % 64)) & 1;
}

static void set_ballooned(struct vmc_xen *x, uint64_t pfn, bool on)
{
    if (ballooned(x, pfn) == on)
        return;
    x->ballooned[pfn / 64] ^= 1ull << (pfn % 64);
    x->nballooned += on ? 1 : (uint64_t)-1;
}

/* Giving back a frame: it must be RAM the guest still has (Xen: a hole cannot be freed twice). A boot
 * RAM page reads zero afterwards and is marked ballooned; a hot-added one is zeroed and stays populated,
 * as in vmcall's own model. */
static int xen_release(struct vmc_vm *vm, uint64_t gpa, uint64_t size, bool check_only)
{
    struct vmc_xen *x = vm->xen;
    if (!vmc_mem_ptr(&vm->mem, gpa, size))
        return -EINVAL;
    if (boot_page(vm, gpa, size))
        for (uint64_t p = gpa >> 12; p < (gpa + size) >> 12; p++)
            if (ballooned(x, p))
                return -EINVAL;
    if (check_only)
        return 0;
    int rc = vmc_mem_zero(&vm->mem, gpa, size);
    if (rc == 0 && boot_page(vm, gpa, size))
        for (uint64_t p = gpa >> 12; p < (gpa + size) >> 12; p++)
            set_ballooned(x, p, true);
    return rc;
}

/* Populating RAM that exists (ballooned or not) gives the guest a zeroed frame there, as Xen replaces
 * the mapping; anywhere else it is vmcall's hot-add, within the VM's limit. */
static int xen_can_populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size, uint64_t pending)
{
    return vmc_mem_ptr(&vm->mem, gpa, size) ? 0 : vmc_mem_can_populate(&vm->mem, gpa, size, pending);
}

static int xen_populate(struct vmc_vm *vm, uint64_t gpa, uint64_t size)
{
    if (!vmc_mem_ptr(&vm->mem, gpa, size))
        return vmc_mem_populate(&vm->mem, vm->kvm, vm->fd, gpa, size);
    int rc = vmc_mem_zero(&vm->mem, gpa, size);
    if (rc == 0 && boot_page(vm, gpa, size))
        for (uint64_t p = gpa >> 12; p < (gpa + size) >> 12; p++)
            set_ballooned(vm->xen, p, false);
    return rc;
}

static const struct vmc_memop_ops xen_ops = { xen_release, xen_can_populate, xen_populate };

/* ---- memory_op ------------------------------------------------------------------------------------ */

#define EXTENTS_PER_PASS 512u

/* The node and address-width hints of mem_flags: accepted and ignored (vmcall has one NUMA node). */
#define MEMF_HINTS (0xffffu | XENMEMF_exact_node_request | XENMEMF_vnode)

/*
 * increase/decrease_reservation and populate_physmap, from extent `start` (Xen's continuation
 * encoding in cmd): Xen's result is the number of extents done. Xen answers a bad order or a flag it
 * cannot honour with "none done", another domain with -EPERM (vmcall is no control domain).
 */
static int64_t reservation(struct vmc_hcall *hc, unsigned op, uint64_t start, bool compat)
{
    struct vmc_resv r;
    int64_t rc = vmc_memop_read_resv(hc, hc->a.args[1], compat, &r);
    if (rc)
        return rc;
    if (!vmc_xen_self(r.domid))
        return -XEN_EPERM;
    if (start >= r.nr_extents)
        return (int64_t)start;
    if (r.extent_order > VMC_MEMOP_MAX_ORDER || (r.mem_flags & ~MEMF_HINTS) ||
        ((r.mem_flags & XENMEMF_exact_node_request) && XENMEMF_get_node(r.mem_flags) != 0))
        return (int64_t)start;
    /* An auto-translated guest gets nothing it could reach from increase_reservation: populate_physmap
     * is the call that maps memory, and vmcall makes increase a no-op rather than leak it. */
    if (op == XENMEM_increase_reservation)
        return (int64_t)start;
    /* A pass does at most EXTENTS_PER_PASS extents, then the call continues from where it stopped (Xen's
     * continuation: the start extent goes back into cmd), so that a huge list never holds the vCPU
     * where a cancel or timeout cannot reach it. Inside a multicall, or past what a 32-bit cmd can
     * carry, the count done so far is the result. */
    struct vmc_resv part = r;
    if (r.nr_extents - start > EXTENTS_PER_PASS)
        part.nr_extents = start + EXTENTS_PER_PASS;
    uint64_t done = vmc_memop_extents(hc, &part, start, op == XENMEM_populate_physmap, &xen_ops);
    bool more = done == part.nr_extents && done < r.nr_extents;
    if (more && (!compat || done < (1ull << (32 - XEN_MEMOP_EXTENT_SHIFT))) && vmc_hc_continue(hc)) {
        hc->a.args[0] = op | done << XEN_MEMOP_EXTENT_SHIFT;
        return 0; /* not seen: the call is made again */
    }
    return (int64_t)done;
}

/* current/maximum_reservation take a domid_t and return pages. */
static int64_t reservation_query(struct vmc_hcall *hc, unsigned op)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    domid_t d;
    if (vmc_hc_copy_from(hc, &d, hc->a.args[1], sizeof(d)))
        return -XEN_EFAULT;
    if (!vmc_xen_self(d))
        return -XEN_EPERM;
    return op == XENMEM_current_reservation ? (int64_t)(vm->mem.populated_pages - vm->xen->nballooned)
                                            : (int64_t)vm->mem.max_pages;
}

/* The highest guest frame that can be RAM, plus one; a 32-bit caller's result must fit its int. */
static int64_t max_ram_page(struct vmc_vm *vm, bool compat)
{
    uint64_t end = vm->mem.hot ? vm->mem.hot_base + vm->mem.hot_size : vm->mem.size;
    uint64_t pages = end >> 12;
    return compat && pages > INT32_MAX ? INT32_MAX : (int64_t)pages;
}

/* XENMEM_memory_map: the same map as the start info's, in BIOS E820 entries, as many as fit. */
static int64_t memory_map(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t arg = hc->a.args[1], buf, nr;
    struct xen_memory_map m;
    struct xen_compat_memory_map c;
    if (compat ? vmc_hc_copy_from(hc, &c, arg, sizeof(c)) : vmc_hc_copy_from(hc, &m, arg, sizeof(m)))
        return -XEN_EFAULT;
    buf = compat ? c.buffer : vmc_xen_handle(&m.buffer);
    nr = compat ? c.nr_entries : m.nr_entries;
    struct __attribute__((packed)) {
        uint64_t addr, size;
        uint32_t type;
    } e820[2] = { { 0, VMC_LAYOUT_LOAD_MIN, XEN_HVM_MEMMAP_TYPE_RESERVED },
                  { VMC_LAYOUT_LOAD_MIN, vm->mem.size - VMC_LAYOUT_LOAD_MIN, XEN_HVM_MEMMAP_TYPE_RAM } };
    _Static_assert(sizeof(e820[0]) == 20, "an E820 entry is 20 bytes");
    if (nr > ARRAY_SIZE(e820))
        nr = ARRAY_SIZE(e820);
    if (vmc_hc_copy_elems_to(hc, buf, 0, e820, nr, sizeof(e820[0])))
        return -XEN_EFAULT;
    uint32_t n32 = (uint32_t)nr;
    return vmc_hc_copy_to(hc, arg, &n32, sizeof(n32)) ? -XEN_EFAULT : 0; /* nr_entries leads both layouts */
}

/* A fresh shared-info page: every event channel masked, upcalls masked, the wallclock at creation. */
static int map_shared_info(struct vmc_vm *vm, uint64_t gpa)
{
    _Static_assert(sizeof(struct shared_info) <= 4096, "shared_info fits its page");
    struct shared_info *p = vmc_mem_ptr(&vm->mem, gpa, 4096);
    if (!p)
        return -XEN_EINVAL;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    memset(p, 0, 4096);
    memset(p->evtchn_mask, 0xff, sizeof(p->evtchn_mask));
    for (size_t i = 0; i < ARRAY_SIZE(p->vcpu_info); i++)
        p->vcpu_info[i].evtchn_upcall_mask = 1;
    uint64_t boot = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec - vmc_xen_now(vm->xen);
    p->wc_sec = (uint32_t)(boot / 1000000000u);
    p->wc_nsec = (uint32_t)(boot % 1000000000u);
    p->wc_sec_hi = (uint32_t)((boot / 1000000000u) >> 32);
    return 0;
}

/*
 * XENMEM_add_to_physmap: the shared-info page (index 0) or a grant-table frame (index < the frame limit;
 * status frames with XENMAPIDX_grant_table_status) appears at gpfn. vmcall has no pages of its own to
 * map there, so the guest's frame is initialised in place; the page is the guest's RAM, outside the
 * VMM-owned first MiB. Moving RAM (gmfn spaces) and foreign or device frames are not offered.
 */
static int64_t add_to_physmap(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t idx, gpfn;
    uint32_t space;
    domid_t domid;
    if (compat) {
        struct xen_compat_add_to_physmap a;
        if (vmc_hc_copy_from(hc, &a, hc->a.args[1], sizeof(a)))
            return -XEN_EFAULT;
        domid = a.domid, space = a.space, idx = a.idx, gpfn = a.gpfn;
    } else {
        struct xen_add_to_physmap a;
        if (vmc_hc_copy_from(hc, &a, hc->a.args[1], sizeof(a)))
            return -XEN_EFAULT;
        domid = a.domid, space = a.space, idx = a.idx, gpfn = a.gpfn;
    }
    if (!vmc_xen_self(domid))
        return -XEN_EPERM;
    if (gpfn >= (1ull << 40) || gpfn << 12 < VMC_LAYOUT_LOAD_MIN || !vmc_mem_ptr(&vm->mem, gpfn << 12, 4096))
        return -XEN_EINVAL;
    switch (space) {
    case XENMAPSPACE_shared_info:
        return idx == 0 ? map_shared_info(vm, gpfn << 12) : -XEN_EINVAL;
    case XENMAPSPACE_grant_table: {
        uint64_t frame = idx & ~(uint64_t)XENMAPIDX_grant_table_status;
        if (frame >= VMC_XEN_GRANT_FRAMES)
            return -XEN_EINVAL;
        if (!(idx & XENMAPIDX_grant_table_status) && frame + 1 > vm->xen->grant_frames)
            vm->xen->grant_frames = (uint32_t)frame + 1;
        return vmc_mem_zero(&vm->mem, gpfn << 12, 4096) ? -XEN_EINVAL : 0;
    }
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
    case XENMAPSPACE_gmfn_foreign:
    case XENMAPSPACE_dev_mmio:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_EINVAL;
    }
}

static int64_t memory_op(struct vmc_hcall *hc, bool compat)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    uint64_t cmd = hc->a.args[0] & XEN_MEMOP_CMD_MASK, start = hc->a.args[0] >> XEN_MEMOP_EXTENT_SHIFT;
    if (start && cmd != XENMEM_increase_reservation && cmd != XENMEM_decrease_reservation &&
        cmd != XENMEM_populate_physmap)
        return -XEN_ENOSYS; /* Xen: only the reservation ops have continuations */
    switch (cmd) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation(hc, (unsigned)cmd, start, compat);
    case XENMEM_exchange:
        return vmc_memop_exchange(hc, hc->a.args[1], compat, &xen_ops);
    case XENMEM_maximum_ram_page:
        return max_ram_page(vm, compat);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        return reservation_query(hc, (unsigned)cmd);
    case XENMEM_maximum_gpfn:
        return (int64_t)(vm->mem.size >> 12) - 1;
    case XENMEM_memory_map:
        return memory_map(hc, compat);
    case XENMEM_add_to_physmap:
        return add_to_physmap(hc, compat);
    case XENMEM_machine_memory_map:
    case XENMEM_set_memory_map:
        return -XEN_EPERM; /* the control domain's */
    case XENMEM_add_to_physmap_batch:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_ENOSYS;
    }
}

int64_t vmc_xen_memory_op(struct vmc_hcall *hc)
{
    return vmc_memop_locked(hc, false, memory_op);
}

int64_t vmc_xen_memory_op_compat(struct vmc_hcall *hc)
{
    return vmc_memop_locked(hc, true, memory_op);
}
