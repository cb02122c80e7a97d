/* SPDX-License-Identifier: MIT */
/* Register state: KVM's structs <-> the public ones, hypercall register conventions, the hypercall page. */
#ifndef VMCALL_SRC_ARCH_X86_64_REGS_H
#define VMCALL_SRC_ARCH_X86_64_REGS_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

/* The registers every view of a vCPU carries, in the order reports print them: struct kvm_regs and
 * kvm_sregs, struct vmc_regs and the control block's guest area all name them alike. */
/* (clang-format 14 does not format this list the same way twice.) */
/* clang-format off */
#define VMC_X86_GPRS(X) \
    X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rbp) X(rsp) X(r8) X(r9) X(r10) X(r11) X(r12) X(r13) X(r14) \
    X(r15) X(rip) X(rflags)
/* clang-format on */
#define VMC_X86_CRS(X) X(cr0) X(cr2) X(cr3) X(cr4) X(efer)

void vmc_x86_regs_out(struct vmc_regs *o, const struct kvm_regs *r, const struct kvm_sregs *s);

/* The guest-state area of the control block (SDM vol. 3C 25.4) from and to KVM's registers; segment
 * access rights in the VMX layout (table 25-2). set_vmcs leaves DR7 to the caller (its own ioctl). */
void vmc_x86_vmcs_guest_out(struct vmc_vmcs *v, const struct kvm_regs *r, const struct kvm_sregs *s,
                            const struct kvm_vcpu_events *e);
void vmc_x86_vmcs_guest_in(const struct vmc_vmcs *v, struct kvm_regs *r, struct kvm_sregs *s,
                           struct kvm_vcpu_events *e);

/* Guest mode at an exit: a 64-bit caller runs with EFER.LMA and CS.L (KVM's is_64_bit_hypercall). */
static inline bool vmc_x86_long64(const struct kvm_sregs *s)
{
    return (s->efer & (1ull << 10)) && s->cs.l;
}
static inline uint8_t vmc_x86_cpl(const struct kvm_sregs *s)
{
    return (uint8_t)(s->cs.selector & 3);
}

/*
 * A hypercall's number and arguments from the registers (abi.h): 64-bit callers in RBX, RCX, RDX, RSI,
 * RDI (VMC_HCABI_KVM) or RDI, RSI, RDX, R10, R8 (VMC_HCABI_XEN); 32-bit callers in EBX, ECX, EDX, ESI, EDI
 * with number and arguments truncated. The result goes back in RAX, truncated for 32-bit callers.
 */
void vmc_x86_hc_args(const struct kvm_regs *r, const struct kvm_sregs *s, uint32_t abi,
                     struct vmc_hypercall_args *a);
/* The inverse of vmc_x86_hc_args for the argument registers (a continuation's remaining work). */
void vmc_x86_hc_set_args(struct kvm_regs *r, uint32_t abi, const struct vmc_hypercall_args *a);
void vmc_x86_hc_result(struct kvm_regs *r, bool compat, int64_t ret);

/*
 * A hypercall page (abi.h): 32-byte stubs `mov $n, %eax; out %al, $port; ret`, int3 padding, and `ud2` in
 * the slot `poison` (vmcall: 0, reserved; Xen: __HYPERVISOR_iret, which HVM guests may not call).
 */
void vmc_x86_hypercall_page(uint8_t page[4096], uint8_t port, uint32_t poison);

/* ---- the XSAVE image (SDM vol. 1 13.4, standard format: what KVM_GET_XSAVE gives) ---- */
#define VMC_X86_XSAVE_LEGACY 512 /* the FXSAVE area; the 64-byte header follows */
#define VMC_X86_XSAVE_HEADER 64
/* Bytes the image takes for the state components in *features (CPUID.(EAX=0DH,ECX=i): EBX their
 * offset, EAX their size): at least the legacy area and header; components ending past KVM's 4 KiB
 * region are taken out of *features. */
uint32_t vmc_x86_xsave_size(uint64_t *features);
/* Check an image someone else wrote as XRSTOR would: false for a header with XCOMP_BV or reserved bytes
 * set, or XSTATE_BV beyond `features` (KVM_SET_XSAVE refuses the same; checking first keeps that promise
 * the VMM's own). MXCSR's reserved bits are cleared, as Linux clears them on sigreturn. */
bool vmc_x86_xsave_check(uint8_t *image, uint64_t features);

#endif /* VMCALL_SRC_ARCH_X86_64_REGS_H */
