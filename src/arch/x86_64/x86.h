/* SPDX-License-Identifier: MIT */
/* x86 architectural constants the VMM relies on, each with its Intel SDM reference (docs/abi-reference.md).
 */
#ifndef VMCALL_SRC_ARCH_X86_64_X86_H
#define VMCALL_SRC_ARCH_X86_64_X86_H

/*
 * VMX layouts that the public API exposes (exit reasons, I/O qualification, interruption information,
 * execution/exit/entry control bits) are defined once in include/vmcall/vmcall.h as VMC_EXIT_*,
 * VMC_IOQ_*, VMC_INTR_* and VMC_{PIN,PROC,PROC2,EXITCTL,ENTRYCTL}_*; this header holds the rest.
 */

/* Control registers (SDM vol. 3A 2.5). */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_OSXSAVE (1ull << 18)

/* IA32_EFER (SDM vol. 3A 2.2.1, table 2-1). */
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* RFLAGS (SDM vol. 1 3.4.3). Bit 1 is reserved and always 1. */
#define X86_RFLAGS_FIXED (1ull << 1)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_DF (1ull << 10)

/* Paging-structure entries (SDM vol. 3A 4.3-4.5, tables 4-4 to 4-20). */
#define X86_PTE_P (1ull << 0)
#define X86_PTE_W (1ull << 1)
#define X86_PTE_U (1ull << 2)
#define X86_PTE_A (1ull << 5)
#define X86_PTE_D (1ull << 6)
#define X86_PTE_PS (1ull << 7)
#define X86_PTE_NX (1ull << 63)
#define X86_PTE_ADDR 0x000ffffffffff000ull

/* Exception vectors (SDM vol. 3A 6.3.1, table 6-1). */
#define X86_VEC_DE 0
#define X86_VEC_DB 1
#define X86_VEC_NMI 2
#define X86_VEC_BP 3
#define X86_VEC_UD 6
#define X86_VEC_DF 8
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_FIRST_IRQ 32 /* 0-31 are reserved for exceptions */

/* #PF error code bits (SDM vol. 3A 4.7). */
#define X86_PFEC_P (1u << 0)
#define X86_PFEC_W (1u << 1)
#define X86_PFEC_U (1u << 2)
#define X86_PFEC_RSVD (1u << 3)
#define X86_PFEC_I (1u << 4)

/* Segment descriptor types (SDM vol. 3A 3.4.5.1, 3.5): code execute/read accessed, data read/write
 * accessed, busy 64-bit TSS, LDT. */
#define X86_SEG_CODE_XRA 0xbu
#define X86_SEG_DATA_RWA 0x3u
#define X86_SEG_TSS_BUSY 0xbu
#define X86_SEG_LDT 0x2u

/* IA32_APIC_BASE (SDM vol. 3A 11.4.4): the default base, BSP flag, global enable. */
#define X86_APIC_BASE_DEFAULT 0xfee00000ull
#define X86_APIC_BASE_BSP (1ull << 8)
#define X86_APIC_BASE_EN (1ull << 11)

/* CPUID feature bits (SDM vol. 2A, CPUID leaves 1 and 0x80000001; AMD APM vol. 3 for SVM). */
#define X86_CPUID1_ECX_VMX (1u << 5)
#define X86_CPUID1_ECX_X2APIC (1u << 21)
#define X86_CPUID1_ECX_XSAVE (1u << 26)
#define X86_CPUID1_ECX_HYPERVISOR (1u << 31)
#define X86_CPUID1_EDX_APIC (1u << 9)
#define X86_CPUID80000001_ECX_SVM (1u << 2)
#define X86_CPUID80000001_EDX_NX (1u << 20)

/* 64-bit TSS (SDM vol. 3A 8.7, figure 8-11): 104 bytes, then the I/O permission bitmap (SDM vol. 1
 * 19.5.2: one bit per port, a set bit faults at CPL > IOPL, followed by a 0xff byte). */
#define X86_TSS_RSP0 4u
#define X86_TSS_IST1 36u
#define X86_TSS_IOMAP_BASE 102u
#define X86_TSS64_SIZE 0x68u
#define X86_IOMAP_BYTES (65536u / 8u)

/* Exceptions that push an error code (SDM vol. 3A 6.15): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
static inline int x86_exc_has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

#endif /* VMCALL_SRC_ARCH_X86_64_X86_H */
