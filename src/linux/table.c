/* SPDX-License-Identifier: MIT */
/* The Linux personality's system-call table, generated from linux.def. */
#include "calls.h"

#define LX_NR_END 512 /* above every x86-64 system call number Linux has */

/* Each call under the personality's lock (linux.h): a wrapper per call, generated from the list. */
#define HC(nr, name, native, compat, flags)                                                                  \
    static int64_t locked_##name(struct vmc_hcall *hc)                                                       \
    {                                                                                                        \
        pthread_mutex_lock(&vmc_lx(hc)->lock);                                                               \
        int64_t r = native(hc);                                                                              \
        pthread_mutex_unlock(&vmc_lx(hc)->lock);                                                             \
        return r;                                                                                            \
    }
#include "linux.def"
#undef HC

static const struct vmc_hc_entry linux_entries[LX_NR_END] = {
#define HC(nr, name, native, compat, flags) [nr] = { #name, locked_##name, locked_##name, flags },
#include "linux.def"
#undef HC
};

const struct vmc_hc_table vmc_hc_table_linux = {
    .name = "linux",
    .n = LX_NR_END,
    .user_base = LX_NR_END, /* no embedder calls: every number is Linux's */
    .user_end = LX_NR_END,
    .stub_poison = UINT32_MAX, /* no slot is poisoned: 0 is read, and the program calls through `syscall` */
    .e = linux_entries,
    .ret = vmc_linux_sysret,
};
