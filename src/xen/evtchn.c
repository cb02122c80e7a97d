/* SPDX-License-Identifier: MIT */
/* Xen's event_channel_op (port bookkeeping without delivery) and grant_table_op (sizes and versions). */
#include <errno.h>
#include <string.h>

#include "calls.h"

/* ---- event_channel_op ----------------------------------------------------------------------------- */

/* Port 0 is reserved (Xen never allocates it); ports are valid below the limit. */
static bool port_valid(uint64_t port)
{
    return port < VMC_XEN_EVTCHN_MAX;
}

static int64_t alloc_unbound(struct vmc_hcall *hc, struct vmc_xen *x, uint64_t arg)
{
    struct evtchn_alloc_unbound a;
    if (vmc_hc_copy_from(hc, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (!vmc_xen_self(a.dom))
        return -XEN_EPERM;
    uint32_t port = 1;
    while (port < VMC_XEN_EVTCHN_MAX && x->evtchn[port] != EVTCHNSTAT_closed)
        port++;
    if (port == VMC_XEN_EVTCHN_MAX)
        return -XEN_ENOSPC;
    a.port = port;
    if (vmc_hc_copy_to(hc, arg, &a, sizeof(a)))
        return -XEN_EFAULT; /* nothing allocated: the guest never learnt the port */
    x->evtchn[port] = EVTCHNSTAT_unbound;
    x->evtchn_remote[port] = a.remote_dom == DOMID_SELF ? VMC_XEN_DOMID : a.remote_dom;
    return 0;
}

static int64_t status(struct vmc_hcall *hc, struct vmc_xen *x, uint64_t arg)
{
    struct evtchn_status s;
    if (vmc_hc_copy_from(hc, &s, arg, sizeof(s)))
        return -XEN_EFAULT;
    if (!vmc_xen_self(s.dom))
        return -XEN_EPERM;
    if (!port_valid(s.port))
        return -XEN_EINVAL;
    uint32_t p = vmc_index_nospec(s.port, VMC_XEN_EVTCHN_MAX);
    s.status = p == 0 ? EVTCHNSTAT_closed : x->evtchn[p];
    s.vcpu = 0;
    memset(&s.u, 0, sizeof(s.u));
    if (s.status == EVTCHNSTAT_unbound)
        s.u.unbound.dom = x->evtchn_remote[p];
    return vmc_hc_copy_to(hc, arg, &s, sizeof(s)) ? -XEN_EFAULT : 0;
}

/* close and send take a port; either needs it in use (send to an unbound port is dropped, as Xen does). */
static int64_t port_op(struct vmc_hcall *hc, struct vmc_xen *x, uint64_t arg, bool close)
{
    evtchn_port_t port;
    if (vmc_hc_copy_from(hc, &port, arg, sizeof(port)))
        return -XEN_EFAULT;
    if (!port_valid(port))
        return -XEN_EINVAL;
    uint32_t p = vmc_index_nospec(port, VMC_XEN_EVTCHN_MAX);
    if (p == 0 || x->evtchn[p] == EVTCHNSTAT_closed)
        return -XEN_EINVAL;
    if (close)
        x->evtchn[p] = EVTCHNSTAT_closed;
    return 0;
}

/* The FIFO ABI's control block: checked as Xen checks it (vCPU, offset, a RAM frame); vmcall only has
 * the 2-level ABI, so a valid request is -EOPNOTSUPP and the guest keeps 2-level. */
static int64_t init_control(struct vmc_hcall *hc, uint64_t arg)
{
    struct evtchn_init_control c;
    if (vmc_hc_copy_from(hc, &c, arg, sizeof(c)))
        return -XEN_EFAULT;
    if (c.vcpu >= hc->vcpu->vm->nvcpus)
        return -XEN_ENOENT;
    if ((c.offset & 7) || c.offset > 4096 - sizeof(struct evtchn_fifo_control_block) ||
        c.control_gfn >= (1ull << 40) || !vmc_mem_ptr(&hc->vcpu->vm->mem, c.control_gfn << 12, 4096))
        return -XEN_EINVAL;
    return -XEN_EOPNOTSUPP;
}

int64_t vmc_xen_event_channel_op(struct vmc_hcall *hc)
{
    struct vmc_xen *x = vmc_xen_of(hc);
    uint64_t arg = hc->a.args[1];
    switch (hc->a.args[0]) {
    case EVTCHNOP_alloc_unbound:
        return alloc_unbound(hc, x, arg);
    case EVTCHNOP_status:
        return status(hc, x, arg);
    case EVTCHNOP_close:
        return port_op(hc, x, arg, true);
    case EVTCHNOP_send:
        return port_op(hc, x, arg, false);
    case EVTCHNOP_init_control:
        return init_control(hc, arg);
    case EVTCHNOP_expand_array:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_ENOSYS; /* binding needs event delivery, which vmcall does not have */
    }
}

/* ---- grant_table_op ------------------------------------------------------------------------------- */

/*
 * Sizes and versions, so that a guest can set its table up with add_to_physmap; no grant is ever
 * mapped or copied (there is no other domain). Xen lets an HVM guest make only some grant ops; the
 * others (cache_flush, transfer, ...) are -ENOSYS there, as here.
 */
int64_t vmc_xen_grant_table_op(struct vmc_hcall *hc)
{
    struct vmc_xen *x = vmc_xen_of(hc);
    uint64_t cmd = hc->a.args[0], arg = hc->a.args[1], count = (uint32_t)hc->a.args[2];
    switch (cmd) {
    case GNTTABOP_query_size: {
        struct gnttab_query_size q;
        if (count != 1)
            return -XEN_EINVAL;
        if (vmc_hc_copy_from(hc, &q, arg, sizeof(q)))
            return -XEN_EFAULT;
        q.status = vmc_xen_self(q.dom) ? GNTST_okay : GNTST_bad_domain;
        q.nr_frames = x->grant_frames ? x->grant_frames : 1;
        q.max_nr_frames = VMC_XEN_GRANT_FRAMES;
        return vmc_hc_copy_to(hc, arg, &q, sizeof(q)) ? -XEN_EFAULT : 0;
    }
    case GNTTABOP_set_version: {
        struct gnttab_set_version v;
        if (count != 1)
            return -XEN_EINVAL;
        if (vmc_hc_copy_from(hc, &v, arg, sizeof(v)))
            return -XEN_EFAULT;
        int64_t rc = v.version == 1 || v.version == 2 ? 0 : -XEN_EINVAL;
        if (rc == 0)
            x->grant_version = v.version;
        v.version = x->grant_version;
        return vmc_hc_copy_to(hc, arg, &v, sizeof(v)) ? -XEN_EFAULT : rc;
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version v;
        if (count != 1)
            return -XEN_EINVAL;
        if (vmc_hc_copy_from(hc, &v, arg, sizeof(v)))
            return -XEN_EFAULT;
        if (!vmc_xen_self(v.dom))
            return -XEN_EPERM;
        v.version = x->grant_version;
        return vmc_hc_copy_to(hc, arg, &v, sizeof(v)) ? -XEN_EFAULT : 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}
