/* SPDX-License-Identifier: MIT */
/* Hypercalls: the call context, guest handles, tables selected per VM, dispatch, counters. */
#ifndef VMCALL_SRC_HYPERCALL_H
#define VMCALL_SRC_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "arch/x86_64/mmu.h"
#include "vmcall/vmcall.h"

struct vmc_vm;
struct vmc_vcpu;
struct iovec;

/* The hypercall being handled: its caller, arguments, how the caller's handles translate, and the action
 * the exit takes afterwards (handlers that stop the VM, block or take the vCPU down set it). */
struct vmc_hcall {
    struct vmc_vcpu *vcpu;
    struct vmc_hypercall_args a;
    struct vmc_mmu mmu;
    unsigned acc;   /* VMC_ACC_USER for CPL3 callers */
    unsigned depth; /* multicall nesting */
    struct vmc_action *act;
};
typedef int64_t (*vmc_hc_fn)(struct vmc_hcall *hc);

/* A table of calls (hc/table.c, built from a .def list): names and native and 32-bit compat handlers. */
#define VMC_HC_USER VMC_HC_F_USER /* flag: CPL3 callers may make this call when the VM allows them */
struct vmc_hc_entry {
    const char *name;
    vmc_hc_fn native, compat;
    unsigned flags;
};
struct vmc_hc_table {
    const char *name;
    uint32_t n;                   /* numbers 0..n-1 */
    uint32_t user_base, user_end; /* numbers embedders may register: [user_base, user_end) */
    uint32_t stub_poison;         /* the hypercall-page slot that holds ud2, which nobody can call or allow
                                     (UINT32_MAX: none) */
    const struct vmc_hc_entry *e;
    /* After the result is in RAX: how the caller gets back (NULL: the doorbell's `ret` does it). */
    void (*ret)(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc, int64_t result);
};
extern const struct vmc_hc_table vmc_hc_table_vmcall;
extern const struct vmc_hc_table vmc_hc_table_xen;   /* xen/table.c */
extern const struct vmc_hc_table vmc_hc_table_linux; /* linux/table.c */

struct vmc_user_hc {
    vmc_hypercall_fn fn;
    void *opaque;
    unsigned flags;
    char name[32];
};
struct vmc_hc_counter {
    uint64_t count, errors, denied, total_ns;
};

/* A VM's hypercall state (owned by hypercall.c). */
struct vmc_hc {
    const struct vmc_hc_table *table;
    uint32_t nr_max;          /* every number is below this */
    uint32_t abi;             /* VMC_HCABI_*: argument registers of 64-bit callers */
    bool allow_user;          /* CPL3 callers may make user-callable calls */
    bool time;                /* time handlers (config stats) */
    struct vmc_user_hc *user; /* user_end - user_base slots */
    uint64_t *allowed;        /* allow-list bitmap over nr_max */
};
/* Select the VM's table and convention; every vCPU gets its counters (the vCPUs are allocated). */
int vmc_hc_init(struct vmc_vm *vm, const struct vmc_hc_table *table, uint32_t abi, bool allow_user,
                bool time);
void vmc_hc_free(struct vmc_vm *vm);
/* Fill the hypercall page at gpa for this VM's table. */
int vmc_hc_write_page(struct vmc_vm *vm, uint64_t gpa);
/* VMC_FEAT_* of this VM (boot info, version). */
uint64_t vmc_vm_features(const struct vmc_vm *vm);

/* The doorbell exit (decoded as VMC_EXIT_VMCALL): registers in, one call, RAX out. */
void vmc_hc_doorbell(struct vmc_vcpu *vcpu, uint32_t count, struct vmc_action *act);
/* Make the call a continuation (Xen's hypercall_create_continuation): the handler has put the work that
 * remains in hc->a.args, the guest's registers get them and the call is made again once the exit's
 * action is done. False inside a multicall, where a call cannot be restarted on its own. */
bool vmc_hc_continue(struct vmc_hcall *hc);
/* Dispatch one call through the VM's table: number, allow-list and CPL checks, counters. Used by the
 * doorbell and by multicall. Returns the guest's result. */
int64_t vmc_hc_dispatch(struct vmc_hcall *hc);

/* ---- guest handles ---- */
/* Typed guest addresses that host code can only pass to the copy helpers (Xen's XEN_GUEST_HANDLE). */
#define VMC_HANDLE(T)                                                                                        \
    struct {                                                                                                 \
        uint64_t addr;                                                                                       \
        T *type_[0];                                                                                         \
    }
#define vmc_handle(h, a) ((h).addr = (a))
/* Copies through the caller's paging with its privilege (abi.h); -EFAULT, and nothing copied, on any
 * bad byte. */
int vmc_hc_copy_from(const struct vmc_hcall *hc, void *dst, uint64_t gaddr, uint64_t len);
int vmc_hc_copy_to(const struct vmc_hcall *hc, uint64_t gaddr, const void *src, uint64_t len);
/* Host memory behind a guest buffer as at most max iovecs, every page checked first (writable when the
 * VMM will write into it). For bulk data only: the guest may change the buffer while the VMM uses it. */
int vmc_hc_iov(const struct vmc_hcall *hc, uint64_t gaddr, uint64_t len, bool guest_writes, struct iovec *iov,
               int max);
/* Copy len bytes at byte offset off of the memory an iovec array describes, to (to_iov) or from buf. */
void vmc_iov_copy(const struct iovec *iov, int n, uint64_t off, void *buf, uint64_t len, bool to_iov);
/* Address of element idx of a handle, or -EFAULT when idx * size or the sum overflows. */
int vmc_handle_elem(uint64_t base, uint64_t idx, uint64_t size, uint64_t *out);
int vmc_hc_copy_elems_from(const struct vmc_hcall *hc, void *dst, uint64_t base, uint64_t off, uint64_t n,
                           uint64_t size);
int vmc_hc_copy_elems_to(const struct vmc_hcall *hc, uint64_t base, uint64_t off, const void *src, uint64_t n,
                         uint64_t size);
/* Copy n elements at element offset off; the pointer types of dst and h must match. */
#define copy_from_guest_offset(hc, dst, h, off, n)                                                           \
    ((void)sizeof((dst) == (h).type_[0]),                                                                    \
     vmc_hc_copy_elems_from((hc), (dst), (h).addr, (off), (n), sizeof(*(dst))))
#define copy_to_guest_offset(hc, h, off, src, n)                                                             \
    ((void)sizeof((src) == (h).type_[0]),                                                                    \
     vmc_hc_copy_elems_to((hc), (h).addr, (off), (src), (n), sizeof(*(src))))
#define copy_from_guest(hc, dst, h, n) copy_from_guest_offset(hc, dst, h, 0, n)
#define copy_to_guest(hc, h, src, n) copy_to_guest_offset(hc, h, 0, src, n)

#endif /* VMCALL_SRC_HYPERCALL_H */
