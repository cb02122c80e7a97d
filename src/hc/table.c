/* SPDX-License-Identifier: MIT */
/* Hypercall tables, generated from the call lists: a VM selects one at creation. */
#include "calls.h"

static const struct vmc_hc_entry vmcall_entries[VMC_HC_CORE_END] = {
#define HC(nr, name, native, compat, flags) [nr] = { #name, native, compat, flags },
#include "vmcall.def"
#undef HC
};

const struct vmc_hc_table vmc_hc_table_vmcall = {
    .name = "vmcall",
    .n = VMC_HC_CORE_END,
    .user_base = VMC_HC_USER_BASE,
    .user_end = VMC_HYPERCALL_NR_MAX,
    .stub_poison = VMC_HC_RESERVED,
    .e = vmcall_entries,
};
