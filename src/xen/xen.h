/* SPDX-License-Identifier: MIT */
/* The Xen personality: Xen's public headers, the compat layouts, the per-VM state and its entry points. */
#ifndef VMCALL_SRC_XEN_XEN_H
#define VMCALL_SRC_XEN_XEN_H

/*
 * Numbers and layouts come from Xen's public headers (Debian's libxen-dev, /usr/include/xen), never
 * retyped. The interface is the latest the headers know; sysctl and domctl need __XEN_TOOLS__ for their
 * interface versions. The 32-bit (compat) layouts are not in the public headers: Xen generates them at
 * build time (xen/include/compat); the few vmcall needs are below, each asserted.
 */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#endif
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/domctl.h>
#include <xen/elfnote.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/sysctl.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#include "../hypercall.h"
#include "vmcall/abi.h"

/* vmcall's guest error codes are Linux's errno numbers, which are Xen's (xen/errno.h): one set serves
 * both personalities. */
_Static_assert(VMC_EPERM == XEN_EPERM && VMC_ENOENT == XEN_ENOENT && VMC_EFAULT == XEN_EFAULT &&
                   VMC_EINVAL == XEN_EINVAL && VMC_ENOSYS == XEN_ENOSYS && VMC_ENOMEM == XEN_ENOMEM &&
                   VMC_EAGAIN == XEN_EAGAIN && VMC_EBUSY == XEN_EBUSY && VMC_EEXIST == XEN_EEXIST &&
                   VMC_ENOSPC == XEN_ENOSPC,
               "vmcall's error numbers are Xen's");
/* Xen's memory_op reservation and multicall layouts are the ones vmcall's own calls use (abi.h): the
 * handlers behind them are shared. */
_Static_assert(sizeof(struct xen_memory_reservation) == sizeof(struct vmc_mem_reservation) &&
                   offsetof(struct xen_memory_reservation, nr_extents) ==
                       offsetof(struct vmc_mem_reservation, nr_extents) &&
                   offsetof(struct xen_memory_reservation, extent_order) ==
                       offsetof(struct vmc_mem_reservation, extent_order) &&
                   offsetof(struct xen_memory_reservation, mem_flags) ==
                       offsetof(struct vmc_mem_reservation, mem_flags) &&
                   offsetof(struct xen_memory_reservation, domid) ==
                       offsetof(struct vmc_mem_reservation, domid),
               "xen_memory_reservation is vmc_mem_reservation");
_Static_assert(sizeof(struct xen_memory_exchange) == sizeof(struct vmc_mem_exchange) &&
                   offsetof(struct xen_memory_exchange, nr_exchanged) ==
                       offsetof(struct vmc_mem_exchange, nr_exchanged),
               "xen_memory_exchange is vmc_mem_exchange");
_Static_assert(sizeof(struct multicall_entry) == sizeof(struct vmc_multicall_entry) &&
                   offsetof(struct multicall_entry, result) == offsetof(struct vmc_multicall_entry, result) &&
                   offsetof(struct multicall_entry, args) == offsetof(struct vmc_multicall_entry, args),
               "multicall_entry is vmc_multicall_entry");
/* memory_op's cmd carries a continuation's start extent above bit 6 (Xen's MEMOP_EXTENT_SHIFT and
 * MEMOP_CMD_MASK live in its private xen/hypercall.h; the public memory.h documents the encoding). */
#define XEN_MEMOP_EXTENT_SHIFT 6
#define XEN_MEMOP_CMD_MASK ((1u << XEN_MEMOP_EXTENT_SHIFT) - 1)
_Static_assert(DOMID_SELF == VMC_DOMID_SELF && XEN_MEMOP_CMD_MASK == VMC_MEMOP_CMD_MASK &&
                   XENMEM_decrease_reservation == VMC_MEMOP_RELEASE &&
                   XENMEM_populate_physmap == VMC_MEMOP_POPULATE && XENMEM_exchange == VMC_MEMOP_EXCHANGE,
               "memory_op numbers");

/* Compat (32-bit caller) layouts: handles and xen_ulong_t are 4 bytes, uint64_t is 4-byte aligned. */
struct xen_compat_add_to_physmap {
    domid_t domid;
    uint16_t size;
    uint32_t space;
    uint32_t idx;
    uint32_t gpfn;
};
struct xen_compat_memory_map {
    uint32_t nr_entries;
    uint32_t buffer;
};
struct xen_compat_sched_poll {
    uint32_t ports;
    uint32_t nr_ports;
    uint32_t timeout_lo, timeout_hi;
};
struct xen_compat_platform_parameters {
    uint32_t virt_start;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24 && offsetof(struct xen_add_to_physmap, idx) == 8 &&
                   sizeof(struct xen_compat_add_to_physmap) == 16,
               "add_to_physmap: 24 bytes native, 16 compat");
_Static_assert(sizeof(struct xen_memory_map) == 16 && sizeof(struct xen_compat_memory_map) == 8,
               "memory_map: 16 bytes native, 8 compat");
_Static_assert(sizeof(struct sched_poll) == 24 && offsetof(struct sched_poll, timeout) == 16 &&
                   sizeof(struct xen_compat_sched_poll) == 16,
               "sched_poll: 24 bytes native, 16 compat");
_Static_assert(sizeof(struct hvm_start_info) == 56 && sizeof(struct hvm_memmap_table_entry) == 24 &&
                   offsetof(struct hvm_start_info, memmap_paddr) == 40,
               "PVH start info, version 1");
_Static_assert(sizeof(struct xen_hvm_param) == 16 && sizeof(struct evtchn_alloc_unbound) == 8 &&
                   sizeof(struct evtchn_status) == 24 && sizeof(struct evtchn_init_control) == 24 &&
                   sizeof(struct gnttab_query_size) == 16 && sizeof(struct vcpu_set_singleshot_timer) == 16,
               "the same layout for 32- and 64-bit callers");

/* What vmcall tells a Xen guest about itself. */
#define VMC_XEN_DOMID 1u            /* an ordinary domU */
#define VMC_XEN_EVTCHN_MAX 1024u    /* ports 1..1023, as xl's default max_event_channels */
#define VMC_XEN_GRANT_FRAMES 32u    /* grant-table frames a guest may map (xl's default) */
#define VMC_XEN_STORE_PAGE 0x11000u /* the zero page HVM_PARAM_STORE_PFN names (no xenstore) */
#define VMC_XEN_START_INFO VMC_LAYOUT_BOOT_INFO
#define VMC_XEN_CMDLINE VMC_LAYOUT_CMDLINE
_Static_assert(VMC_XEN_STORE_PAGE >= VMC_LAYOUT_HYPERCALL_PAGE + 4096 &&
                   VMC_XEN_STORE_PAGE + 4096 <= VMC_LAYOUT_IST_GUARD,
               "the store page is a free VMM-owned page");

/* A Xen VM's state beyond vmcall's (owned by xen/). One vCPU: the handlers run on its thread only, and
 * memory_op holds the memory lock as vmcall's does. */
struct vmc_xen {
    uint64_t boot_ns;                          /* Xen system time 0 */
    uint64_t *ballooned;                       /* one bit per boot-RAM page given back */
    uint64_t nballooned;                       /* pages set in `ballooned` */
    uint64_t params[HVM_NR_PARAMS];            /* hvm_op set/get_param */
    uint8_t evtchn[VMC_XEN_EVTCHN_MAX];        /* EVTCHNSTAT_closed or _unbound per port */
    domid_t evtchn_remote[VMC_XEN_EVTCHN_MAX]; /* an unbound port: who may bind it */
    uint64_t timer_ns;                         /* set_timer_op / singleshot deadline, system time; 0 none */
    uint32_t grant_version;                    /* 1 or 2 */
    uint32_t grant_frames;                     /* frames mapped with add_to_physmap */
    uint32_t shutdown_code;                    /* SCHEDOP_shutdown_code */
};

struct vmc_vm;
struct vmc_mem;

/* Create and free a VM's Xen state; install Xen's CPUID leaves in place of vmcall's. */
int vmc_xen_create(struct vmc_vm *vm);
void vmc_xen_free(struct vmc_vm *vm);
/* The PVH start info (hvm_start_info, memory map, command line) in VMM-owned low memory; its address. */
int vmc_xen_write_start_info(struct vmc_mem *mem, const char *cmdline, uint64_t *gpa);

/* Xen system time (ns since the VM was created) and the monotonic time it corresponds to. */
uint64_t vmc_xen_now(const struct vmc_xen *x);
uint64_t vmc_xen_deadline(const struct vmc_xen *x, uint64_t system_time);

#endif /* VMCALL_SRC_XEN_XEN_H */
