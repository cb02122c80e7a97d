/* SPDX-License-Identifier: MIT */
/* The Linux personality's system-call table, generated from linux.def. */
#include "calls.h"

#define LX_NR_END 512 /* above every x86-64 system call number Linux has */

static const struct vmc_hc_entry linux_entries[LX_NR_END] = {
#define HC(nr, name, native, compat, flags) [nr] = { #name, native, native, flags },
#include "linux.def"
#undef HC
};

const struct vmc_hc_table vmc_hc_table_linux = {
    .name = "linux",
    .n = LX_NR_END,
    .user_base = LX_NR_END, /* no embedder calls: every number is Linux's */
    .user_end = LX_NR_END,
    .stub_poison = 0,
    .e = linux_entries,
    .ret = vmc_linux_sysret,
};
