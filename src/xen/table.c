/* SPDX-License-Identifier: MIT */
/* The Xen personality's hypercall table, generated from xen.def. */
#include "calls.h"

#define XEN_HC_END (__HYPERVISOR_arch_7 + 1) /* Xen's numbers end with the eight arch calls */

static const struct vmc_hc_entry xen_entries[XEN_HC_END] = {
#define HC(nr, name, native, compat, flags) [nr] = { #name, native, compat, flags },
#include "xen.def"
#undef HC
};

const struct vmc_hc_table vmc_hc_table_xen = {
    .name = "xen",
    .n = XEN_HC_END,
    .user_base = VMC_HC_USER_BASE, /* 64..127: above every number Xen defines */
    .user_end = VMC_HYPERCALL_NR_MAX,
    .stub_poison = __HYPERVISOR_iret, /* Xen poisons the iret slot of an HVM guest's page the same way */
    .e = xen_entries,
};
