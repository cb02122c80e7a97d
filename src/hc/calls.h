/* SPDX-License-Identifier: MIT */
/* Prototypes of every hypercall handler, generated from the call lists. */
#ifndef VMCALL_SRC_HC_CALLS_H
#define VMCALL_SRC_HC_CALLS_H

#include "../hypercall.h"

#define HC(nr, name, native, compat, flags)                                                                  \
    int64_t native(struct vmc_hcall *hc);                                                                    \
    int64_t compat(struct vmc_hcall *hc);
#include "vmcall.def"
#undef HC

#endif /* VMCALL_SRC_HC_CALLS_H */
