/* SPDX-License-Identifier: MIT */
/* Prototypes of the Linux personality's handlers, generated from linux.def, and what they share. */
#ifndef VMCALL_SRC_LINUX_CALLS_H
#define VMCALL_SRC_LINUX_CALLS_H

#include <asm/unistd.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/uio.h>
#include <time.h>

#include "../vm.h"
#include "linux.h"

#define HC(nr, name, native, compat, flags) int64_t native(struct vmc_hcall *hc);
#include "linux.def"
#undef HC

/* The calling program's state. */
static inline struct vmc_linux *vmc_lx(const struct vmc_hcall *hc)
{
    return hc->vcpu->vm->lx;
}

/* Could the program's [addr, addr+len) (at most a page's worth) be written now? */
static inline bool vmc_lx_writable(struct vmc_hcall *hc, uint64_t addr, uint64_t len)
{
    struct iovec iov[2];
    return len <= 4096 && vmc_hc_iov(hc, addr, len, true, iov, 2) >= 0;
}

/* The descriptor table entry for a guest fd, or NULL (-EBADF). */
struct vmc_lx_fd *vmc_lx_fd_get(struct vmc_linux *lx, uint64_t fd);
/* Open the guest's path (relative to dirfd) beneath the root, the full path in `full` when asked; the
 * directory holding a path's last component (a writable root only), and that component (linux/fs.c). */
int64_t vmc_lx_open_in_root(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, uint64_t flags,
                            uint64_t mode, char *full, size_t fullsize);
int64_t vmc_lx_parent_of(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, char *name, size_t size);
/* A free descriptor at or above `from` with this entry, or -EMFILE. */
int64_t vmc_lx_fd_install(struct vmc_linux *lx, uint64_t from, const struct vmc_lx_fd *e);
void vmc_lx_fd_close(struct vmc_lx_fd *f);
/* A timespec timeout from the program as nanoseconds from now: relative, or absolute on clk (a time
 * already past is 0). -EFAULT or -EINVAL for a bad one. */
int64_t vmc_lx_timeout(struct vmc_hcall *hc, uint64_t uts, clockid_t clk, bool absolute, uint64_t *ns);
/* The files the VMM makes under /proc and /sys (linux/procfs.c), for a path from the root: *ours says
 * whether the path is one of them (all of /proc/...: -ENOENT for what is not there); then a host
 * descriptor to a sealed copy of the text, or -EACCES (writing), -ENOTDIR, -errno. */
int64_t vmc_lx_procfs_open(struct vmc_vm *vm, const char *full, uint64_t flags, bool *ours);
/* Give [start, start+len) (page-aligned, inside RAM) PROT_* rights in the guest's page tables and in the
 * host's mapping (linux/mm.c); 0 or a negative errno. */
int vmc_lx_protect(struct vmc_vm *vm, uint64_t start, uint64_t len, uint64_t prot);
/* Is all of [lo, hi) mapped: the image, the break, mappings, the stack (not a free range, nor the guard
 * gap below the stack, nor the page tables above it)? */
bool vmc_lx_mapped(const struct vmc_linux *lx, uint64_t lo, uint64_t hi);
/* Is thread `id` (vCPU id) one of the program's: its vCPU up and its exit not run? */
static inline bool vmc_lx_thread_live(struct vmc_vm *vm, uint32_t id)
{
    return vmc_sched_vcpu_is_up(&vm->vcpus[id]) && !atomic_load(&vm->lx->thread[id].exiting);
}
/* The program's threads (sysinfo, /proc, the last exit). */
static inline uint32_t vmc_lx_live_threads(struct vmc_vm *vm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        n += vmc_lx_thread_live(vm, i);
    return n;
}
/* RAM neither the break nor a mapping holds (sysinfo, /proc/meminfo). */
static inline uint64_t vmc_lx_free_bytes(const struct vmc_linux *lx)
{
    uint64_t free = 0;
    for (uint32_t i = 0; i < lx->nfree; i++)
        free += lx->free[i].end - lx->free[i].start;
    return free;
}
/* A signal to the program itself: its default action ends the program (128 + signal), ignored ones
 * do nothing, handled ones are delivered at the call's return, or by another thread that does not
 * block them (vmc_lx_send). 0, or -EINVAL for a bad number. */
int64_t vmc_lx_raise(struct vmc_hcall *hc, uint64_t sig);

#endif /* VMCALL_SRC_LINUX_CALLS_H */
