/* SPDX-License-Identifier: MIT */
/* The Xen personality's VM: its state, Xen's CPUID leaves, the PVH start info, Xen system time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cpuid.h"
#include "../mem.h"
#include "../util.h"
#include "../vm.h"
#include "xen.h"

/* Xen's version as the headers vmcall was built against give it (0x00040e00: 4.14). */
#define XEN_MAJOR (__XEN_LATEST_INTERFACE_VERSION__ >> 16)
#define XEN_MINOR ((__XEN_LATEST_INTERFACE_VERSION__ >> 8) & 0xff)

/*
 * Xen's HVM leaves at 0x40000000 (xen/arch-x86/cpuid.h): the signature and the highest leaf, the
 * version, the hypercall-page MSR (one page), no time leaf data (no pvclock), and leaf 4: the vCPU and
 * domain ids. vmcall's own leaves go: a Xen guest looks for Xen's signature at the first base.
 */
static int set_cpuid(struct vmc_vm *vm)
{
    const struct kvm_cpuid_entry2 leaves[] = {
        { .function = XEN_CPUID_LEAF(0),
          .eax = XEN_CPUID_LEAF(4),
          .ebx = XEN_CPUID_SIGNATURE_EBX,
          .ecx = XEN_CPUID_SIGNATURE_ECX,
          .edx = XEN_CPUID_SIGNATURE_EDX },
        { .function = XEN_CPUID_LEAF(1), .eax = (XEN_MAJOR << 16) | XEN_MINOR },
        { .function = XEN_CPUID_LEAF(2), .eax = 1, .ebx = VMC_MSR_HYPERCALL_PAGE },
        { .function = XEN_CPUID_LEAF(3) },
        { .function = XEN_CPUID_LEAF(4),
          .eax = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT,
          .ebx = 0,
          .ecx = VMC_XEN_DOMID },
    };
    return vmc_cpuid_set_hypervisor_leaves(vm, leaves, ARRAY_SIZE(leaves));
}

int vmc_xen_create(struct vmc_vm *vm)
{
    struct vmc_xen *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    vm->xen = x;
    x->boot_ns = vmc_now_ns();
    x->grant_version = 1;
    x->params[HVM_PARAM_STORE_PFN] = VMC_XEN_STORE_PAGE >> 12;
    x->params[HVM_PARAM_STORE_EVTCHN] = 0; /* no xenstore: port 0 is never bound */
    x->ballooned = calloc((vm->mem.size / 4096 + 63) / 64, sizeof(uint64_t));
    if (!x->ballooned)
        return -ENOMEM;
    return set_cpuid(vm);
}

void vmc_xen_free(struct vmc_vm *vm)
{
    if (vm->xen)
        free(vm->xen->ballooned);
    free(vm->xen);
    vm->xen = NULL;
}

/*
 * The PVH start info (Xen's docs/misc/pvh.pandoc; xen/arch-x86/hvm/start_info.h), version 1: the command
 * line, no modules, and a memory map: the VMM-owned first MiB reserved, then the boot RAM. The memory
 * map follows the structure on its page.
 */
int vmc_xen_write_start_info(struct vmc_mem *mem, const char *cmdline, uint64_t *gpa)
{
    size_t len = strlen(cmdline);
    if (len >= VMC_LAYOUT_CMDLINE_SIZE)
        return -E2BIG;
    struct {
        struct hvm_start_info si;
        struct hvm_memmap_table_entry map[2];
    } b = {
        .si = { .magic = XEN_HVM_START_MAGIC_VALUE,
                .version = 1,
                .cmdline_paddr = VMC_XEN_CMDLINE,
                .memmap_paddr = VMC_XEN_START_INFO + offsetof(typeof(b), map),
                .memmap_entries = 2 },
        .map = { { .addr = 0, .size = VMC_LAYOUT_LOAD_MIN, .type = XEN_HVM_MEMMAP_TYPE_RESERVED },
                 { .addr = VMC_LAYOUT_LOAD_MIN,
                   .size = mem->size - VMC_LAYOUT_LOAD_MIN,
                   .type = XEN_HVM_MEMMAP_TYPE_RAM } },
    };
    int rc = vmc_mem_write(mem, VMC_XEN_CMDLINE, cmdline, len + 1);
    if (rc == 0)
        rc = vmc_mem_write(mem, VMC_XEN_START_INFO, &b, sizeof(b));
    if (rc == 0)
        rc = vmc_mem_zero(mem, VMC_XEN_STORE_PAGE, 4096);
    *gpa = VMC_XEN_START_INFO;
    return rc;
}

uint64_t vmc_xen_now(const struct vmc_xen *x)
{
    return vmc_now_ns() - x->boot_ns;
}

uint64_t vmc_xen_deadline(const struct vmc_xen *x, uint64_t system_time)
{
    uint64_t t;
    return __builtin_add_overflow(x->boot_ns, system_time, &t) ? UINT64_MAX : t;
}
