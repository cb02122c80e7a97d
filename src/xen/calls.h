/* SPDX-License-Identifier: MIT */
/* Prototypes of the Xen personality's handlers, generated from xen.def. */
#ifndef VMCALL_SRC_XEN_CALLS_H
#define VMCALL_SRC_XEN_CALLS_H

#include <string.h>

#include "../vm.h"
#include "xen.h"

#define HC(nr, name, native, compat, flags)                                                                  \
    int64_t native(struct vmc_hcall *hc);                                                                    \
    int64_t compat(struct vmc_hcall *hc);
#include "xen.def"
#undef HC

/* The guest's own domain: DOMID_SELF or its id. */
static inline bool vmc_xen_self(uint64_t domid)
{
    return domid == DOMID_SELF || domid == VMC_XEN_DOMID;
}
/* The guest address in a native XEN_GUEST_HANDLE field (a host pointer type in the public headers). */
static inline uint64_t vmc_xen_handle(const void *field)
{
    uint64_t a;
    memcpy(&a, field, sizeof(a));
    return a;
}
static inline struct vmc_xen *vmc_xen_of(const struct vmc_hcall *hc)
{
    return hc->vcpu->vm->xen;
}

#endif /* VMCALL_SRC_XEN_CALLS_H */
