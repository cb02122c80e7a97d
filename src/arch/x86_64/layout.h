/* SPDX-License-Identifier: MIT */
/* The x86-64 guest platform the VMM builds in guest RAM (abi.h layout) and the vCPU entry states. */
#ifndef VMCALL_SRC_ARCH_X86_64_LAYOUT_H
#define VMCALL_SRC_ARCH_X86_64_LAYOUT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmcall/abi.h"

struct vmc_mem;

/* Identity page tables, GDT, TSSs, default IDTs (64- and 32-bit) with their exception stubs. */
int vmc_x86_setup_memory(struct vmc_mem *mem, bool user, uint32_t nvcpus);
/*
 * 4 KiB page tables for user pages, replacing the 2 MiB identity pages above the first 2 MiB: one PTE per
 * page of RAM, the tables at pt_base in guest RAM (vmc_x86_user_pt_bytes of them, page aligned; the
 * caller keeps them out of the guest's reach). Every page starts not present.
 */
uint64_t vmc_x86_user_pt_bytes(uint64_t ram_size);
void vmc_x86_user_pt_install(struct vmc_mem *mem, uint64_t pt_base);
/* Rights of user pages, PROT_READ/PROT_WRITE/PROT_EXEC's values (none: not present; execute needs nx:
 * EFER.NXE is on, else every present page executes). */
#define VMC_X86_R 1u
#define VMC_X86_W 2u
#define VMC_X86_X 4u
/* Set [gpa, gpa+len)'s rights; true when a page that stays present lost execute: a TLB (or a shadow MMU)
 * may still hold the old right, and only the caller can make the host forget it. */
bool vmc_x86_user_pt_set(struct vmc_mem *mem, uint64_t pt_base, bool nx, uint64_t gpa, uint64_t len,
                         unsigned rights);
unsigned vmc_x86_user_pt_get(const struct vmc_mem *mem, uint64_t pt_base, uint64_t gpa);

/* The TSS I/O permission bitmap (X86_IOMAP_BYTES + the 0xff byte; 1 = #GP at CPL3) of every vCPU. Only
 * vCPU 0's is written for a one-vCPU VM: each first touch of guest RAM is a host page fault. */
void vmc_x86_install_iomap(struct vmc_mem *mem, const uint8_t *bitmap, uint32_t nvcpus);

/* What boot info tells the guest (abi.h struct vmc_boot_info) beyond the layout constants. */
/* argv[0] is the program; the arguments follow, and the command line joins the arguments only. */
struct vmc_x86_boot {
    const char *program;
    int argc; /* arguments, not counting the program */
    char *const *argv;
    uint64_t image_start, image_end;
    uint32_t flags, vcpus, hypercall_abi, mode;
    uint64_t features;
};
int vmc_x86_write_boot_info(struct vmc_mem *mem, const struct vmc_x86_boot *b);
/* Bytes of the command-line area the program and its arguments need (argv[] + strings + joined line). */
uint64_t vmc_x86_cmdline_bytes(const char *program, int argc, const char *const *argv, uint64_t *joined);

/* vCPU 0's entry state (abi.h entry contract): 64-bit (CPL0 or CPL3) or 32-bit protected mode. */
void vmc_x86_init_vcpu_state(bool user, uint32_t mode, uint64_t entry, struct kvm_regs *regs,
                             struct kvm_sregs *sregs);
/* A vCPU started by another (VMC_VCPUOP_UP): the caller's context, its own TSS and exception stack. */
void vmc_x86_init_ap_state(const struct kvm_sregs *caller, uint32_t id, const struct vmc_vcpu_up *up,
                           struct kvm_regs *regs, struct kvm_sregs *sregs);

/* KVM_GET_SUPPORTED_CPUID curated for guests: no VMX/SVM/APIC, the hypervisor bit, vmcall's leaves. */
int vmc_x86_build_cpuid(int kvm_fd, struct kvm_cpuid2 **out);
/* Clear what the guest must never see (VMX, SVM) and set the hypervisor bit, in one entry. */
void vmc_x86_cpuid_sanitize(struct kvm_cpuid_entry2 *e);

#endif /* VMCALL_SRC_ARCH_X86_64_LAYOUT_H */
