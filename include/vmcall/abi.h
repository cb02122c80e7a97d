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
/* 2: hypercalls, hypercall page, 32-bit guests; 3: vCPUs, timers, IPIs; 4: argv[0] is the program,
 * console_read may wait, the guest's ELF note */
#define VMC_ABI_VERSION 4u

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
 *   - 32-bit guests (VMC_MODE_32, ELF32): protected mode, paging off, CS = VMC_SEL_KCODE32, data
 *     segments VMC_SEL_KDATA (flat 4 GiB), EIP = entry, ESP = VMC_LAYOUT_STACK_TOP, EDI = boot info, a
 *     32-bit default IDT at VMC_LAYOUT_IDT32 reporting exceptions like the 64-bit one. CPL0 only.
 *   - In user mode the VMM owns GDT/IDT/TSS and page tables (supervisor-only pages); port I/O is granted
 *     through the TSS I/O permission bitmap for VMC_PORT_DEBUGCON, COM1 (8 ports), VMC_PORT_EXIT and
 *     VMC_PORT_HYPERCALL, plus the ports the VM's I/O policy opens (IOPL is not relied upon). Boot info and
 * command line pages are user-readable.
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
#define VMC_LAYOUT_IDT32 0x15000u   /* 32-bit guests: IDT (256 8-byte gates) */
#define VMC_LAYOUT_STUBS32 0x15800u /* 32-bit guests: exception stubs */
/* vCPUs 1..VMC_VCPU_MAX-1: a 128-byte TSS each (vCPU 0 keeps VMC_LAYOUT_TSS), one I/O bitmap shared by
 * those TSSs (8 KiB + the trailing 0xff byte), and a 256-byte exception stack each (the default stubs push
 * 96 bytes at most). */
#define VMC_LAYOUT_TSS_AP 0x16000u
#define VMC_LAYOUT_IOMAP_AP 0x18000u
#define VMC_LAYOUT_IST_AP 0x1b000u
#define VMC_LAYOUT_IST_AP_SIZE 0x100u
#define VMC_LAYOUT_STACK_GUARD 0x20000u /* never mapped: stack overflow faults */
#define VMC_LAYOUT_STACK 0x21000u
#define VMC_LAYOUT_STACK_TOP 0x100000u
#define VMC_LAYOUT_LOAD_MIN 0x100000u /* lowest address a guest image may occupy */

/* RAM is a multiple of 2 MiB, at least 2 MiB, and stays below the 32-bit MMIO window. */
#define VMC_RAM_ALIGN 0x200000ull
#define VMC_RAM_MIN 0x200000ull
#define VMC_RAM_MAX 0xc0000000ull
#define VMC_MMIO_BASE 0xc0000000ull

/* vCPUs per VM (vmcall run --vcpus N). */
#define VMC_VCPU_MAX 64u

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

/*
 * The guest note (ABI 4): an ELF note (PT_NOTE) that vmcall-cc puts in every guest, so that the VMM runs it
 * the way it was built. Name "vmcall", type VMC_NOTE_GUEST, descriptor struct vmc_guest_note. vmcall run
 * takes the mode from it (a conflicting option is an error) and refuses an abi_version above its own; an
 * image without the note runs with the options given (hand-written guests).
 */
#define VMC_NOTE_NAME "vmcall"
#define VMC_NOTE_GUEST 1u
#define VMC_GUEST_KERNEL 0u /* 64-bit, started at CPL0 (vmcall-cc) */
#define VMC_GUEST_USER 1u   /* 64-bit, started at CPL3 (vmcall-cc --user) */
#define VMC_GUEST_32 2u     /* 32-bit protected mode (vmcall-cc --m32) */
struct vmc_guest_note {
    uint32_t abi_version; /* the VMC_ABI_VERSION it was built against */
    uint32_t mode;        /* VMC_GUEST_* */
};

/* Boot information, at VMC_LAYOUT_BOOT_INFO; RDI points to it at entry. */
#define VMC_BOOT_MAGIC 0x42434d56u /* "VMCB" little-endian */
#define VMC_BOOT_F_USER (1u << 0)  /* the guest was started at CPL3 */
#define VMC_MODE_64 64u
#define VMC_MODE_32 32u

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
    uint64_t cmdline;      /* GPA of the NUL-terminated command line: the arguments joined by spaces */
    uint32_t cmdline_len;  /* strlen of the command line */
    uint32_t argc;         /* ABI 4: 1 + the number of arguments (those after `--`), as in C */
    uint64_t argv;         /* GPA of uint64_t argv[argc + 1], each a GPA of a NUL-terminated string:
                            * argv[0] the program (the image's path as given to the VMM), then the
                            * arguments, then 0 */
    uint32_t vcpu_id;      /* 0: boot info is shared; other vCPUs learn their id at entry (VMC_HC_VCPU_OP) */
    uint32_t vcpu_count;   /* vCPUs in the VM; vCPU 0 starts, the others wait for VMC_VCPUOP_UP */
    /* ABI 2 */
    uint64_t hypercall_page; /* GPA of the pre-installed hypercall page */
    uint32_t hypercall_abi;  /* VMC_HCABI_KVM or VMC_HCABI_XEN: which registers carry arguments */
    uint32_t mode;           /* VMC_MODE_64 or VMC_MODE_32 */
    uint64_t features;       /* VMC_FEAT_* */
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

/*
 * Discovery (Xen's scheme; docs/abi-reference.md, "Hypercall page"): CPUID 0x40000000 returns EAX = highest
 * vmcall leaf and the signature "vmcallvmcall" in EBX/ECX/EDX; 0x40000001 EAX = VMC_ABI_VERSION; 0x40000002
 * EAX = number of hypercall pages (1), EBX = the MSR index. WRMSR of a page-aligned guest-RAM address to that
 * MSR makes the VMM fill that page; a misaligned, non-RAM or VMM-owned address raises #GP. CPUID is only
 * trapped at CPL0 on some hosts, so user-mode guests use boot_info.hypercall_page.
 */
#define VMC_CPUID_BASE 0x40000000u
#define VMC_CPUID_VERSION 0x40000001u
#define VMC_CPUID_HYPERCALL 0x40000002u
#define VMC_CPUID_MAX VMC_CPUID_HYPERCALL
#define VMC_MSR_HYPERCALL_PAGE 0x40000000u /* the index Xen uses */
#define VMC_CPUID_SIG_EBX 0x61636d76u      /* "vmca" */
#define VMC_CPUID_SIG_ECX 0x6d766c6cu      /* "llvm" */
#define VMC_CPUID_SIG_EDX 0x6c6c6163u      /* "call" */

/*
 * ---- Hypercalls ----------------------------------------------------------------------------------------
 *
 * A call is synchronous: the guest puts the call number in RAX and up to five arguments in registers,
 * calls the stub for that number in the hypercall page, and gets the result in RAX. Every other register
 * is preserved. Register conventions, chosen per VM (boot_info.hypercall_abi):
 *   VMC_HCABI_KVM (default): arguments in RBX, RCX, RDX, RSI, RDI (KVM's; docs/abi-reference.md, "Hypercall
 * conventions") VMC_HCABI_XEN:           arguments in RDI, RSI, RDX, R10, R8 (Xen's 64-bit HVM) 32-bit
 * callers, either convention: EBX, ECX, EDX, ESI, EDI; the number, arguments and result are truncated to 32
 * bits (KVM's rule) and the call goes to its compat handler (32-bit struct layouts). Results are >= 0 on
 * success, or a negative VMC_E* code.
 *
 * The hypercall page holds one 32-byte stub per call number n at offset 32*n:
 *   b8 <n:imm32>   mov $n, %eax
 *   e6 eb          out %al, $VMC_PORT_HYPERCALL   (the doorbell: an imm8 port, so no argument register
 *                                                  is needed for the port number)
 *   c3             ret
 *   cc...          int3 padding
 * Slot 0 (reserved) is ud2. Unlike Xen and KVM, the transport is port I/O rather than VMCALL/VMMCALL:
 * VMCALL cannot be trapped from every host this VMM runs on (see README), while an I/O exit always can.
 *
 * Callers at CPL3 get -VMC_EPERM unless the call is user-callable and the VM allows user-mode callers
 * (VMs started in user mode do). User-callable: version, console_write, console_read, sched_op, time,
 * random, multicall (each entry is checked again) and block_op; memory_op is kernel-only, and calls
 * registered by library users say so themselves (VMC_HC_F_USER in vmcall.h). A VM may also be restricted to
 * an allow-list of calls: any other call gets -VMC_EPERM. Unknown numbers get -VMC_ENOSYS.
 *
 * Pointers are guest handles: 64-bit guest-linear addresses, translated through the caller's page tables
 * (permissions checked: present, user for CPL3 callers, writable for OUT buffers) or guest-physical when
 * paging is off. A bad handle makes the call return -VMC_EFAULT. Argument structs are read once.
 */
#define VMC_HCABI_KVM 0u
#define VMC_HCABI_XEN 1u

#define VMC_HYPERCALL_STUB_SIZE 32u
#define VMC_HYPERCALL_NR_MAX 128u /* numbers are below this: 4096 / 32 stubs */

enum vmc_hypercall_nr {
    VMC_HC_RESERVED = 0,
    VMC_HC_VERSION = 1,       /* (OUT struct vmc_version *or 0) -> VMC_ABI_VERSION */
    VMC_HC_CONSOLE_WRITE = 2, /* (IN buf, len) -> bytes written; len <= VMC_CONSOLE_IO_MAX */
    VMC_HC_CONSOLE_READ = 3,  /* (OUT buf, len, flags) -> bytes read, 0 at end of input, -VMC_EAGAIN if
                               * none yet; with VMC_CONSOLE_WAIT the vCPU first waits (ABI 4) */
    VMC_HC_SCHED_OP = 4,      /* (VMC_SCHEDOP_*, arg) */
    VMC_HC_TIME = 5,          /* (OUT struct vmc_time *) -> 0 */
    VMC_HC_RANDOM = 6,        /* (OUT buf, len) -> bytes; len <= VMC_RANDOM_MAX */
    VMC_HC_MEMORY_OP = 7,     /* (VMC_MEMOP_*, IN/OUT struct *) */
    VMC_HC_MULTICALL = 8,     /* (IN/OUT struct vmc_multicall_entry[], nr) -> 0 or -VMC_EFAULT */
    VMC_HC_BLOCK_OP = 9,      /* (VMC_BLOCKOP_*, IN/OUT struct *) */
    VMC_HC_VCPU_OP = 10,      /* (VMC_VCPUOP_*, vcpu, IN struct vmc_vcpu_up * for UP) */
    VMC_HC_SET_TIMER = 11,    /* (deadline_ns, vector) -> 0: one-shot; deadline 0 cancels */
    VMC_HC_SEND_IPI = 12,     /* (vcpu, vector) -> 0: external interrupt `vector` to that vCPU */
    VMC_HC_CORE_END = 13,     /* numbers up to 63 are reserved for vmcall */
    VMC_HC_USER_BASE = 64,    /* 64..127: calls registered by library users (vmc_hypercall_register) */
};

/* Guest-visible error codes: negated in RAX. Linux errno numbers, so that KVM and Xen users recognise
 * them (KVM's own KVM_ENOSYS is 1000; vmcall uses 38 like Xen). */
#define VMC_EPERM 1
#define VMC_ENOENT 2
#define VMC_EINTR 4
#define VMC_EIO 5
#define VMC_E2BIG 7
#define VMC_EAGAIN 11
#define VMC_ENOMEM 12
#define VMC_EFAULT 14
#define VMC_EBUSY 16
#define VMC_EEXIST 17
#define VMC_EINVAL 22
#define VMC_ENOSPC 28
#define VMC_EROFS 30
#define VMC_ENOSYS 38
#define VMC_EOPNOTSUPP 95

/* console_read flags (ABI 4). VMC_CONSOLE_WAIT: when no input is there, the vCPU waits in the VMM until
 * some comes, the input ends, an interrupt is due or the VM stops, and the call then returns -VMC_EAGAIN:
 * call again. Waiting costs no exits. Other flag bits get -VMC_EINVAL. */
#define VMC_CONSOLE_WAIT 1u

/* Feature bits, in struct vmc_version and boot_info.features. */
#define VMC_FEAT_HYPERCALL_PAGE (1ull << 0)
#define VMC_FEAT_MULTICALL (1ull << 1)
#define VMC_FEAT_MEMORY_OP (1ull << 2)
#define VMC_FEAT_BLOCK (1ull << 3) /* a disk is attached */
#define VMC_FEAT_MSR_DISCOVERY (1ull << 4)
#define VMC_FEAT_USER_CALLS (1ull << 5) /* CPL3 callers may make user-callable calls */

/* VMC_HC_VERSION */
struct vmc_version {
    uint32_t abi_version; /* OUT */
    uint32_t pad;
    uint64_t features; /* OUT: VMC_FEAT_* */
    char vmm[16];      /* OUT: "vmcall x.y.z", NUL-padded */
};

#define VMC_CONSOLE_IO_MAX 65536u
#define VMC_RANDOM_MAX 4096u

/* VMC_HC_SCHED_OP commands (Xen's SCHEDOP numbers). */
#define VMC_SCHEDOP_YIELD 0u /* arg unused -> 0 */
#define VMC_SCHEDOP_BLOCK                                                                                    \
    1u                          /* arg = timeout in ns (0 = none): wait until an interrupt is pending or the \
                                 * timeout -> 0. Does not change RFLAGS.IF: the interrupt is taken once IF=1 */
#define VMC_SCHEDOP_SHUTDOWN 2u /* arg = IN struct vmc_sched_shutdown *: the VM stops; never returns */
#define VMC_SHUTDOWN_POWEROFF 0u /* the VM exits with `status` */
#define VMC_SHUTDOWN_CRASH 1u    /* the VM stops as crashed (vmcall run: status 126) */
struct vmc_sched_shutdown {
    uint32_t reason; /* IN: VMC_SHUTDOWN_* */
    uint32_t status; /* IN: exit status for POWEROFF */
};

/*
 * VMC_HC_VCPU_OP (Xen's VCPUOP numbers where they exist). A VM has boot_info.vcpu_count vCPUs; vCPU 0
 * starts at the image entry, the others are down until VMC_VCPUOP_UP. A new vCPU starts in its caller's
 * context (CR0/CR3/CR4/EFER, GDT, IDT, segments, so at the caller's privilege) with its own TSS and
 * exception stack, RIP = entry, RSP = stack, RDI = arg, RSI = its id, RFLAGS = 0x2, other GPRs zero.
 * A vCPU that is down (VMC_VCPUOP_DOWN, or HLT with RFLAGS.IF = 0) may be brought up again with a new
 * context. The VM ends when every vCPU is down (status 0), or when any vCPU exits, shuts down or crashes.
 * Errors: -VMC_ENOENT for a vCPU id >= vcpu_count, -VMC_EBUSY to bring up a vCPU that is up.
 */
#define VMC_VCPUOP_UP 1u    /* (vcpu, IN struct vmc_vcpu_up *) -> 0 */
#define VMC_VCPUOP_DOWN 2u  /* (vcpu) -> 0; the caller's own id: does not return until brought up again */
#define VMC_VCPUOP_IS_UP 3u /* (vcpu) -> 1 or 0; a vCPU told to go down is up until it has stopped */
#define VMC_VCPUOP_SELF 32u /* () -> the caller's vCPU id */
struct vmc_vcpu_up {
    uint64_t entry; /* IN: guest-linear RIP */
    uint64_t stack; /* IN: RSP */
    uint64_t arg;   /* IN: RDI */
};

/*
 * VMC_HC_SET_TIMER: one timer per vCPU. At `deadline_ns` on the host's monotonic clock (struct vmc_time,
 * monotonic_ns) external interrupt `vector` (32-255) is raised on the calling vCPU; a deadline in the
 * past fires at once. A new call replaces the pending timer. -VMC_EINVAL for a bad vector. 32-bit callers
 * pass (deadline low 32 bits, deadline high 32 bits, vector).
 * VMC_HC_SEND_IPI: raise external interrupt `vector` (32-255) on vCPU `vcpu` (the caller included); a
 * halted target wakes. Interrupts are taken when the target has RFLAGS.IF = 1.
 */

/* VMC_HC_TIME */
struct vmc_time {
    uint64_t monotonic_ns; /* OUT: CLOCK_MONOTONIC of the host */
    uint64_t wall_ns;      /* OUT: nanoseconds since the Unix epoch */
};

/*
 * VMC_HC_MEMORY_OP. Frames are 4 KiB guest frame numbers (GPA >> 12); an extent of order k is 2^k
 * naturally aligned frames. RAM from boot is populated; a guest may add RAM only inside the hot-add
 * window [VMC_HOTADD_BASE, VMC_HOTADD_BASE + VMC_HOTADD_SIZE), which the VMM never maps by itself, and
 * never past the VM's limit (vmcall run --mem-max): populated frames, boot RAM included, count against
 * it. Released frames stay populated (they read as zeros and may be reused), so they still count.
 */
#define VMC_HOTADD_BASE 0x100000000ull /* 4 GiB */
#define VMC_HOTADD_SIZE 0x40000000ull  /* 1 GiB */
#define VMC_MEMOP_CMD_MASK 0x3fu       /* Xen's MEMOP_CMD_MASK; cmd >> 6 must be 0 (no continuations) */
#define VMC_MEMOP_RELEASE 1u           /* Xen XENMEM_decrease_reservation: host memory back, reads zero */
#define VMC_MEMOP_QUERY 3u             /* OUT struct vmc_mem_query */
#define VMC_MEMOP_POPULATE 6u          /* Xen XENMEM_populate_physmap: new RAM at the listed frames */
#define VMC_MEMOP_EXCHANGE 11u         /* Xen XENMEM_exchange: give up `in` extents, get `out` extents */
#define VMC_MEMOP_MAX_ORDER 9u         /* 2 MiB extents at most */

/* RELEASE and POPULATE: returns the number of extents done; stops at the first failing extent. */
struct vmc_mem_reservation {
    uint64_t extent_start; /* IN: handle to uint64_t frames[nr_extents] */
    uint64_t nr_extents;   /* IN */
    uint32_t extent_order; /* IN: <= VMC_MEMOP_MAX_ORDER */
    uint32_t mem_flags;    /* IN: must be 0 */
    uint16_t domid;        /* IN: must be VMC_DOMID_SELF */
    uint16_t pad[3];
};
#define VMC_DOMID_SELF 0x7ff0u /* Xen's DOMID_SELF */

/* EXCHANGE: in.nr_extents << in.extent_order must equal out.nr_extents << out.extent_order. `in`
 * frames are released, `out` frames (IN: where to put them) are populated; nr_exchanged counts input
 * extents done (the caller sets it to 0). Returns 0, or a negative code with nr_exchanged telling how
 * far it got. Checks follow Xen's memory_exchange(): docs/abi-reference.md, "memory_op". */
struct vmc_mem_exchange {
    struct vmc_mem_reservation in;  /* IN */
    struct vmc_mem_reservation out; /* IN: extent_start lists target frames */
    uint64_t nr_exchanged;          /* IN/OUT */
};

struct vmc_mem_query {
    uint64_t ram_size;        /* OUT: boot RAM in bytes */
    uint64_t populated_pages; /* OUT: 4 KiB frames populated (boot RAM + hot-added) */
    uint64_t max_pages;       /* OUT: the limit */
    uint64_t hotadd_base;     /* OUT: VMC_HOTADD_BASE */
    uint64_t hotadd_size;     /* OUT: VMC_HOTADD_SIZE */
};

/* Compat (32-bit caller) layouts of the memory_op structs, as Xen's compat ABI: handles and counts are
 * 32-bit. */
struct vmc_mem_reservation_compat {
    uint32_t extent_start; /* IN: handle to uint32_t frames[nr_extents] */
    uint32_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;
    uint16_t domid;
    uint16_t pad;
};
struct vmc_mem_exchange_compat {
    struct vmc_mem_reservation_compat in;
    struct vmc_mem_reservation_compat out;
    uint32_t nr_exchanged;
};

/* VMC_HC_MULTICALL: entries run in order; each is read once and only `result` is written back. A
 * multicall inside a multicall gets -VMC_EINVAL in its result. */
#define VMC_MULTICALL_MAX 64u
struct vmc_multicall_entry {
    uint64_t op;      /* IN: call number */
    int64_t result;   /* OUT */
    uint64_t args[6]; /* IN: args[5] is unused (calls take at most 5) */
};
struct vmc_multicall_entry_compat {
    uint32_t op;
    int32_t result;
    uint32_t args[6];
};

/* VMC_HC_BLOCK_OP: the disk given with `vmcall run --disk FILE[,ro]`. -VMC_ENOENT without one. */
#define VMC_BLOCKOP_INFO 0u  /* OUT struct vmc_block_info * */
#define VMC_BLOCKOP_READ 1u  /* IN/OUT struct vmc_block_io * -> 0 */
#define VMC_BLOCKOP_WRITE 2u /* IN struct vmc_block_io * -> 0; -VMC_EROFS on a read-only disk */
#define VMC_BLOCKOP_FLUSH 3u /* -> 0 once written data is on stable storage */
#define VMC_BLOCK_SECTOR_SIZE 512u
#define VMC_BLOCK_MAX_SECTORS 256u /* per request: 128 KiB */
#define VMC_BLOCK_F_RO 1u
struct vmc_block_info {
    uint64_t sectors;     /* OUT */
    uint32_t sector_size; /* OUT: VMC_BLOCK_SECTOR_SIZE */
    uint32_t flags;       /* OUT: VMC_BLOCK_F_* */
};
struct vmc_block_io {
    uint64_t sector; /* IN */
    uint64_t count;  /* IN: sectors, 1..VMC_BLOCK_MAX_SECTORS */
    uint64_t buf;    /* IN: handle to count * 512 bytes */
};

#if defined(__cplusplus) && __cplusplus >= 201103L
#define VMC_ABI_ASSERT(c, m) static_assert(c, m)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define VMC_ABI_ASSERT(c, m) _Static_assert(c, m)
#else /* C99: a negative array size fails the build */
#define VMC_ABI_PASTE2(a, b) a##b
#define VMC_ABI_PASTE(a, b) VMC_ABI_PASTE2(a, b)
#define VMC_ABI_ASSERT(c, m) typedef char VMC_ABI_PASTE(vmc_abi_assert_, __LINE__)[(c) ? 1 : -1]
#endif

/* Layouts, one assertion per struct: its size and the offsets a reader of the other side depends on. */
VMC_ABI_ASSERT(sizeof(struct vmc_boot_info) == 112 && offsetof(struct vmc_boot_info, ram_size) == 16 &&
                   offsetof(struct vmc_boot_info, cmdline) == 56 &&
                   offsetof(struct vmc_boot_info, argc) == 68 && offsetof(struct vmc_boot_info, argv) == 72 &&
                   offsetof(struct vmc_boot_info, vcpu_id) == 80 &&
                   offsetof(struct vmc_boot_info, hypercall_page) == 88 &&
                   offsetof(struct vmc_boot_info, features) == 104,
               "struct vmc_boot_info layout");
VMC_ABI_ASSERT(sizeof(struct vmc_fault_frame) == 56 && offsetof(struct vmc_fault_frame, rip) == 16,
               "struct vmc_fault_frame layout");
VMC_ABI_ASSERT(sizeof(struct vmc_guest_note) == 8, "guest note size");
VMC_ABI_ASSERT(sizeof(struct vmc_version) == 32 && sizeof(struct vmc_sched_shutdown) == 8 &&
                   sizeof(struct vmc_time) == 16 && sizeof(struct vmc_mem_query) == 40,
               "core call struct sizes");
VMC_ABI_ASSERT(sizeof(struct vmc_mem_reservation) == 32 &&
                   offsetof(struct vmc_mem_reservation, extent_order) == 16 &&
                   offsetof(struct vmc_mem_reservation, domid) == 24 &&
                   sizeof(struct vmc_mem_exchange) == 72 &&
                   offsetof(struct vmc_mem_exchange, nr_exchanged) == 64,
               "memory_op structs: Xen's LP64 layouts (reservation 32 bytes, exchange 72)");
VMC_ABI_ASSERT(sizeof(struct vmc_mem_reservation_compat) == 20 &&
                   sizeof(struct vmc_mem_exchange_compat) == 44 &&
                   offsetof(struct vmc_mem_exchange_compat, nr_exchanged) == 40,
               "memory_op compat structs: Xen's 32-bit layouts (20 and 44 bytes)");
VMC_ABI_ASSERT(sizeof(struct vmc_multicall_entry) == 64 && offsetof(struct vmc_multicall_entry, args) == 16 &&
                   sizeof(struct vmc_multicall_entry_compat) == 32 &&
                   offsetof(struct vmc_multicall_entry_compat, args) == 8,
               "multicall entries: Xen's layouts (64 and 32 bytes)");
VMC_ABI_ASSERT(sizeof(struct vmc_block_info) == 16 && sizeof(struct vmc_block_io) == 24 &&
                   sizeof(struct vmc_vcpu_up) == 24,
               "block and vcpu_op struct sizes");
VMC_ABI_ASSERT(VMC_LAYOUT_TSS_AP + VMC_VCPU_MAX * 128u <= VMC_LAYOUT_IOMAP_AP &&
                   VMC_LAYOUT_IST_AP + VMC_VCPU_MAX * VMC_LAYOUT_IST_AP_SIZE <= VMC_LAYOUT_STACK_GUARD,
               "per-vCPU TSSs and exception stacks fit the layout");

#endif /* VMCALL_ABI_H */
