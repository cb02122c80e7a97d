/* SPDX-License-Identifier: MIT */
/* vmcall guest/host ABI: boot contract, memory layout, ports. Self-contained C99, shared by VMM and guests.
 */
#ifndef VMCALL_ABI_H
#define VMCALL_ABI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Versioning: VMC_ABI_VERSION is bumped on any change to this file that a guest or host can observe.
 * Structs are append-only: a new field goes at the end, and the struct's `size` field tells a reader
 * which fields the writer knew about.
 */
#define VMC_ABI_VERSION 1u

/*
 * Guest entry contract (64-bit guests, the default):
 *   - Long mode, paging on, all guest RAM identity-mapped (4 KiB pages in the first 2 MiB so that the
 *     null page and guard pages can be left unmapped, 2 MiB pages above), flat GDT (selectors below).
 *   - CPL0 (CS = VMC_SEL_KCODE64), or CPL3 (CS = VMC_SEL_UCODE64) when the VM runs in user mode.
 *   - RFLAGS = 0x2 (IF = 0), RIP = ELF entry (or the flat image's load address),
 *     RSP = VMC_LAYOUT_STACK_TOP (16-byte aligned, the stack grows down to VMC_LAYOUT_STACK),
 *     RDI = guest-physical address of struct vmc_boot_info. All other GPRs are zero.
 *   - CR0 = PG|WP|NE|ET|MP|PE, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = LME|LMA: SSE is usable, but kernel-mode
 *     code on emulating hosts should be built -mgeneral-regs-only (see README).
 *   - IDT = a VMM-owned default whose vectors 0-31 report the exception to the VMM through
 *     VMC_PORT_FAULT on a dedicated IST stack; the VM then stops with a crash report. Guests may lidt
 *     their own.
 *   - In user mode the VMM owns GDT/IDT/TSS and page tables (supervisor-only pages); port I/O is granted
 *     through the TSS I/O permission bitmap for VMC_PORT_DEBUGCON, COM1 (8 ports), VMC_PORT_EXIT and
 *     VMC_PORT_HYPERCALL only (IOPL is not relied upon). Boot info and command line pages are user-readable.
 */

/* Guest-physical memory layout. Everything below VMC_LAYOUT_LOAD_MIN is owned by the VMM. */
#define VMC_LAYOUT_NULL 0x00000u /* never mapped: NULL dereferences fault */
#define VMC_LAYOUT_GDT 0x01000u
#define VMC_LAYOUT_IDT 0x02000u
#define VMC_LAYOUT_STUBS 0x03000u /* default exception stubs */
#define VMC_LAYOUT_TSS 0x04000u   /* 64-bit TSS + 8 KiB I/O bitmap: 3 pages */
#define VMC_LAYOUT_BOOT_INFO 0x07000u
#define VMC_LAYOUT_CMDLINE 0x08000u /* argv[] array, argument strings, joined command line */
#define VMC_LAYOUT_CMDLINE_SIZE 0x2000u
#define VMC_LAYOUT_PML4 0x0a000u
#define VMC_LAYOUT_PDPT 0x0b000u
#define VMC_LAYOUT_PD 0x0c000u             /* 3 pages: up to 3 GiB of RAM in 2 MiB pages */
#define VMC_LAYOUT_PT0 0x0f000u            /* 4 KiB mappings of the first 2 MiB */
#define VMC_LAYOUT_HYPERCALL_PAGE 0x10000u /* reserved for the hypercall page */
#define VMC_LAYOUT_IST_GUARD 0x12000u      /* never mapped */
#define VMC_LAYOUT_IST_STACK 0x13000u      /* 8 KiB exception stack */
#define VMC_LAYOUT_IST_TOP 0x15000u
#define VMC_LAYOUT_STACK_GUARD 0x20000u /* never mapped: stack overflow faults */
#define VMC_LAYOUT_STACK 0x21000u
#define VMC_LAYOUT_STACK_TOP 0x100000u
#define VMC_LAYOUT_LOAD_MIN 0x100000u /* lowest address a guest image may occupy */

/* RAM is a multiple of 2 MiB, at least 2 MiB, and stays below the 32-bit MMIO window. */
#define VMC_RAM_ALIGN 0x200000ull
#define VMC_RAM_MIN 0x200000ull
#define VMC_RAM_MAX 0xc0000000ull
#define VMC_MMIO_BASE 0xc0000000ull

/* GDT selectors (Linux-like order so that a guest kernel can use SYSRET with STAR = 0x0018_0008 << 32). */
#define VMC_SEL_KCODE64 0x08u
#define VMC_SEL_KDATA 0x10u
#define VMC_SEL_UCODE32 0x1bu
#define VMC_SEL_UDATA 0x23u
#define VMC_SEL_UCODE64 0x2bu
#define VMC_SEL_TSS 0x30u /* 16-byte system descriptor */
#define VMC_SEL_KCODE32 0x40u

/*
 * I/O ports. 0xE9 is the Bochs/QEMU debug console convention, COM1 the PC standard. The VMM's own ports
 * sit in 0xE4-0xEB, unused by legacy PC devices (0xED is avoided: Linux uses it as an I/O delay port) and
 * below 0x100 so that `out %al, $imm8` reaches them without a register for the port number. The exit
 * port is 4-aligned so that a 32-bit access covers only its own four bytes in the I/O permission bitmap.
 */
#define VMC_PORT_EXIT 0x00e4u      /* 32-bit out (ports 0xE4-0xE7): the guest's exit status; the VM stops */
#define VMC_PORT_DEBUGCON 0x00e9u  /* byte out -> console */
#define VMC_PORT_FAULT 0x00eau     /* used by the VMM's exception stubs only */
#define VMC_PORT_HYPERCALL 0x00ebu /* reserved for the hypercall doorbell */
#define VMC_PORT_COM1 0x03f8u      /* 16550A UART, 8 ports */

/* Boot information, at VMC_LAYOUT_BOOT_INFO; RDI points to it at entry. */
#define VMC_BOOT_MAGIC 0x42434d56u /* "VMCB" little-endian */
#define VMC_BOOT_F_USER (1u << 0)  /* the guest was started at CPL3 */

struct vmc_boot_info {
    uint32_t magic;        /* VMC_BOOT_MAGIC */
    uint32_t abi_version;  /* VMC_ABI_VERSION of the VMM */
    uint32_t size;         /* sizeof(struct vmc_boot_info) as the VMM knows it */
    uint32_t flags;        /* VMC_BOOT_F_* */
    uint64_t ram_size;     /* bytes of RAM starting at guest-physical 0 */
    uint64_t image_start;  /* lowest address of the loaded image */
    uint64_t image_end;    /* first byte above the loaded image (incl. BSS); free RAM follows */
    uint64_t stack_bottom; /* VMC_LAYOUT_STACK */
    uint64_t stack_top;    /* VMC_LAYOUT_STACK_TOP */
    uint64_t cmdline;      /* GPA of the NUL-terminated command line: guest arguments joined by spaces */
    uint32_t cmdline_len;  /* strlen of the command line */
    uint32_t argc;         /* number of guest arguments (those after `--`) */
    uint64_t argv;         /* GPA of uint64_t argv[argc + 1], each a GPA of a NUL-terminated string */
    uint32_t vcpu_id;      /* this vCPU, 0-based */
    uint32_t vcpu_count;   /* vCPUs in the VM */
};
#define VMC_CMDLINE_MAX 4095u /* longest joined command line */

/* What the VMM's exception stubs leave on the IST stack before ringing VMC_PORT_FAULT. */
struct vmc_fault_frame {
    uint64_t vector;
    uint64_t error_code; /* 0 for vectors that push none */
    uint64_t rip;        /* the hardware interrupt frame follows */
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};

/* CPUID leaf 0x40000000: EAX = highest vmcall leaf, EBX/ECX/EDX = "vmcallvmcall". */
#define VMC_CPUID_BASE 0x40000000u
#define VMC_CPUID_SIG_EBX 0x61636d76u /* "vmca" */
#define VMC_CPUID_SIG_ECX 0x6d766c6cu /* "llvm" */
#define VMC_CPUID_SIG_EDX 0x6c6c6163u /* "call" */

#if defined(__cplusplus) && __cplusplus >= 201103L
#define VMC_ABI_ASSERT(c, m) static_assert(c, m)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define VMC_ABI_ASSERT(c, m) _Static_assert(c, m)
#else /* C99: a negative array size fails the build */
#define VMC_ABI_PASTE2(a, b) a##b
#define VMC_ABI_PASTE(a, b) VMC_ABI_PASTE2(a, b)
#define VMC_ABI_ASSERT(c, m) typedef char VMC_ABI_PASTE(vmc_abi_assert_, __LINE__)[(c) ? 1 : -1]
#endif

VMC_ABI_ASSERT(sizeof(struct vmc_boot_info) == 88, "boot info size");
VMC_ABI_ASSERT(offsetof(struct vmc_boot_info, ram_size) == 16, "boot info ram_size");
VMC_ABI_ASSERT(offsetof(struct vmc_boot_info, cmdline) == 56, "boot info cmdline");
VMC_ABI_ASSERT(offsetof(struct vmc_boot_info, argc) == 68, "boot info argc");
VMC_ABI_ASSERT(offsetof(struct vmc_boot_info, argv) == 72, "boot info argv");
VMC_ABI_ASSERT(offsetof(struct vmc_boot_info, vcpu_id) == 80, "boot info vcpu_id");
VMC_ABI_ASSERT(sizeof(struct vmc_fault_frame) == 56, "fault frame size");
VMC_ABI_ASSERT(offsetof(struct vmc_fault_frame, rip) == 16, "fault frame rip");

#endif /* VMCALL_ABI_H */
