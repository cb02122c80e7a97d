/* SPDX-License-Identifier: MIT */
/* libvmcall: create, load, run and observe micro-VMs on Linux KVM. */
#ifndef VMCALL_VMCALL_H
#define VMCALL_VMCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmcall/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMC_VERSION "0.2.0" /* soname libvmcall.so.1 */

/*
 * Conventions: functions return 0 (or a count) on success and a negative errno on failure; they never
 * exit or abort the process. A VM keeps a message describing its last error (vmc_vm_strerror).
 * Objects are not internally locked: use one VM from one thread at a time, except vmc_vm_cancel, which
 * any thread may call at any time. Several VMs may run concurrently in one process.
 */

struct vmc_kvm;  /* an open /dev/kvm and what was learned from it; shared by many VMs */
struct vmc_vm;   /* one micro-VM: memory, devices, vCPUs */
struct vmc_vcpu; /* one virtual CPU of a VM */

/*
 * Open /dev/kvm (or $VMCALL_KVM_DEVICE when set), check the capabilities vmcall needs and cache the
 * supported CPUID. Installs a process-wide handler for the kick signal (SIGRTMIN unless VMCALL_KICK_SIGNAL
 * names another number); fails with -EBUSY if the application already handles that signal.
 * On failure, a message naming the problem is written to err (errlen bytes, may be NULL).
 */
int vmc_kvm_open(struct vmc_kvm **kvm, char *err, size_t errlen);
/* Release the handle. Every VM created from it must have been destroyed. */
void vmc_kvm_close(struct vmc_kvm *kvm);

struct vmc_config {
    uint64_t mem_size;         /* bytes of RAM: multiple of 2 MiB, 2 MiB..3 GiB; default 64 MiB */
    bool user_mode;            /* start the guest at CPL3 (see abi.h) */
    int console_in_fd;         /* UART receive source; -1 = none (default) */
    int console_out_fd;        /* console output; -1 = discard; default 1 (stdout) */
    uint64_t timeout_ns;       /* stop the VM with VMC_STOP_TIMEOUT after this long; 0 = never */
    bool stats;                /* time every exit handler (counts are always kept) */
    int argc;                  /* guest arguments, passed through boot info */
    const char *const *argv;   /* argc strings, copied at vmc_vm_create */
    uint32_t mode;             /* VMC_MODE_64 (default) or VMC_MODE_32: 32-bit protected mode, ELF32 */
    uint32_t hypercall_abi;    /* vmcall personality: VMC_HCABI_KVM (default) or VMC_HCABI_XEN argument
                                  registers for vmcall's own calls */
    int allow_user_hypercalls; /* -1 (default): as user_mode; 0/1: forbid/allow user-callable calls from CPL3
                                */
    uint64_t mem_max;          /* RAM limit for memory_op populate; 0 (default): mem_size */
    const char *disk_path;     /* block device backing file, or NULL */
    bool disk_readonly;
    uint32_t vcpus;         /* vCPUs, 1..VMC_VCPU_MAX; 0 = 1. vCPU 0 starts, the others on VMC_VCPUOP_UP */
    uint32_t io_default;    /* enum vmc_io_policy for ports no device claims and no policy names (PASS) */
    uint64_t console_limit; /* console output accepted at most (bytes; past it dropped and counted); 0 = no
                               limit (default) */
    /* Run every thread of the process under the VMM's seccomp allow-list from the first vmc_vm_run on
     * (off by default: the library never installs a filter unless asked). The filter is process-wide and
     * permanent: afterwards the process can run and resume this VM, destroy it and write to descriptors
     * it holds, but no longer open files or create VMs (-EPERM); one sandboxed VM per process, as with
     * Firecracker's jailer. Refused calls fail with EPERM (docs/sandbox.md). */
    bool sandbox;
    /* Which hypercall ABI and boot protocol the guest speaks (enum vmc_personality). The Xen personality
     * boots PVH images (vmc_guest_info.xen_pvh) with Xen's hypercall numbers, structs and errors, one vCPU,
     * in 32- and 64-bit code; hypercall_abi, user_mode and mode do not apply to it (docs/xen.md). */
    uint32_t personality;
    /* The Linux personality (docs/linux.md): the host directory the program sees as "/" (NULL: no file
     * system, only descriptors 0-2), writable or not, and its environment (envc strings NAME=VALUE). */
    const char *linux_root;
    bool linux_root_rw;
    int envc;
    const char *const *envp;
    bool trace; /* Linux personality: each system call, its arguments and result, on stderr (as strace) */
};
enum vmc_personality {
    VMC_PERSONALITY_VMCALL = 0, /* vmcall's own hypercalls (abi.h), images built with vmcall-cc */
    VMC_PERSONALITY_XEN = 1,    /* Xen's HVM hypercall ABI and PVH boot */
    VMC_PERSONALITY_LINUX = 2, /* a static x86-64 Linux program at CPL3, its system calls served by the VMM */
};
/* Fill cfg with the defaults. */
void vmc_config_init(struct vmc_config *cfg);

/* Create a VM with cfg->vcpus vCPUs. On failure *vm is NULL and err holds a message. */
int vmc_vm_create(struct vmc_kvm *kvm, const struct vmc_config *cfg, struct vmc_vm **vm, char *err,
                  size_t errlen);
/* Destroy a VM that is not running. Flushes console output first. NULL is allowed. */
void vmc_vm_destroy(struct vmc_vm *vm);
/* The message describing the last error of this VM ("" if none). Valid until the next call on vm. */
const char *vmc_vm_strerror(const struct vmc_vm *vm);

/* What a guest image says about itself, before a VM is made for it. */
struct vmc_guest_info {
    bool note;              /* it has the vmcall guest note (abi.h): built with vmcall-cc */
    uint32_t abi_version;   /* from the note: the guest ABI it was built against */
    uint32_t mode;          /* from the note: VMC_GUEST_KERNEL, VMC_GUEST_USER or VMC_GUEST_32 */
    bool elf32;             /* an ELF32 (i386) image */
    const char *linux_sign; /* NULL, or what shows it was built for Linux ("a GNU ABI tag note", ...) */
    bool xen_pvh;       /* it has Xen's XEN_ELFNOTE_PHYS32_ENTRY note: a PVH guest (VMC_PERSONALITY_XEN) */
    uint64_t xen_entry; /* from that note: the 32-bit entry point */
};
/* Read path's ELF header, program headers and notes. 0, or -errno with a message naming the file (an
 * image this cannot read is one vmc_vm_load_elf would refuse too). */
int vmc_guest_info(const char *path, struct vmc_guest_info *out, char *err, size_t errlen);

/*
 * Load a static x86-64 ELF64 executable (ET_EXEC, PT_LOAD segments with vaddr == paddr, inside RAM and
 * above VMC_LAYOUT_LOAD_MIN, not overlapping; entry inside a loaded segment). BSS is zero-filled.
 * Returns -ENOEXEC for a malformed or unsupported file, -ENOENT/-EACCES/... for an unreadable one.
 */
int vmc_vm_load_elf(struct vmc_vm *vm, const char *path);
/* Load a raw binary at guest-physical gpa and enter it there. */
int vmc_vm_load_flat(struct vmc_vm *vm, const char *path, uint64_t gpa);

/* Checked copies between host memory and guest-physical memory: -EFAULT if any byte is outside RAM. */
int vmc_vm_read(struct vmc_vm *vm, uint64_t gpa, void *buf, size_t len);
int vmc_vm_write(struct vmc_vm *vm, uint64_t gpa, const void *buf, size_t len);

/*
 * The exit record: a VM exit decoded into the layout of the VMCS exit-information fields (Intel SDM
 * vol. 3C 25.9; docs/abi-reference.md, "VMX"), whatever the host's vendor.
 */
enum vmc_exit_reason {
    VMC_EXIT_EXCEPTION_NMI = 0, /* a #DB/#BP reported by KVM_EXIT_DEBUG */
    VMC_EXIT_EXTERNAL_INTR = 1, /* KVM_RUN interrupted by a signal (KVM_EXIT_INTR / -EINTR) */
    VMC_EXIT_TRIPLE_FAULT = 2,  /* KVM_EXIT_SHUTDOWN */
    VMC_EXIT_INTR_WINDOW = 7,   /* KVM_EXIT_IRQ_WINDOW_OPEN */
    VMC_EXIT_HLT = 12,          /* KVM_EXIT_HLT */
    VMC_EXIT_VMCALL = 18, /* the hypercall doorbell (an OUT to VMC_PORT_HYPERCALL), or KVM_EXIT_HYPERCALL */
    VMC_EXIT_IO = 30,     /* KVM_EXIT_IO */
    VMC_EXIT_RDMSR = 31,  /* KVM_EXIT_X86_RDMSR */
    VMC_EXIT_WRMSR = 32,  /* KVM_EXIT_X86_WRMSR */
    VMC_EXIT_ENTRY_FAIL_GUEST = 33, /* KVM_EXIT_FAIL_ENTRY (with VMC_EXIT_FAILED_ENTRY set) */
    VMC_EXIT_ENTRY_FAIL_MSR = 34,
    VMC_EXIT_ENTRY_FAIL_MCE = 41,
    VMC_EXIT_EPT_VIOLATION = 48, /* KVM_EXIT_MMIO */
    /* KVM exits with no VMX counterpart: VMC_EXIT_SW_BASE + KVM_EXIT_* */
    VMC_EXIT_SW_BASE = 0x100,
    VMC_EXIT_INTERNAL_ERROR = 0x100 + 17,
    VMC_EXIT_SYSTEM_EVENT = 0x100 + 24,
    VMC_EXIT_REASON_MAX = 0x100 + 64, /* basic reasons are below this */
};
#define VMC_EXIT_FAILED_ENTRY (1u << 31) /* bit 31 of the VMX exit reason */
#define VMC_EXIT_BASIC(r) ((r)&0xffffu)

/* I/O qualification (VMX layout, SDM table 28-5). */
#define VMC_IOQ_SIZE(q) (((q)&7u) + 1u)
#define VMC_IOQ_IN (1u << 3)
#define VMC_IOQ_STRING (1u << 4)
#define VMC_IOQ_REP (1u << 5)
#define VMC_IOQ_PORT(q) ((uint16_t)((q) >> 16))
/* EPT-violation qualification bits used for MMIO. */
#define VMC_EPTQ_READ (1u << 0)
#define VMC_EPTQ_WRITE (1u << 1)

struct vmc_exit {
    uint32_t reason;        /* VMX exit reason: basic reason (enum vmc_exit_reason), bit 31 = entry failure */
    uint32_t kvm_reason;    /* the raw KVM_EXIT_* value */
    uint64_t qualification; /* VMX exit qualification; for internal errors the KVM suberror */
    uint64_t guest_phys;    /* guest-physical address (MMIO) */
    uint32_t insn_len;      /* exit instruction length, 0 where KVM does not report it */
    uint32_t intr_info;     /* VMX interruption information (exception exits), 0 if none */
    uint32_t intr_error;    /* error code / DR6 for #DB */
    uint32_t count;         /* I/O: repetitions (rep string I/O), else 1 */
    uint64_t hw_reason;     /* FAIL_ENTRY: hardware_entry_failure_reason; SYSTEM_EVENT: type */
};

/* Why vmc_vm_run returned. */
enum vmc_stop {
    VMC_STOP_NONE = 0,
    VMC_STOP_EXIT,      /* the guest exited: status holds its exit status */
    VMC_STOP_CRASH,     /* the guest crashed: crash says how; the report has the details */
    VMC_STOP_TIMEOUT,   /* config timeout_ns elapsed */
    VMC_STOP_CANCELLED, /* vmc_vm_cancel */
    VMC_STOP_ERROR,     /* the VMM failed (message in vmc_vm_strerror); the VM cannot continue */
};

enum vmc_crash {
    VMC_CRASH_NONE = 0,
    VMC_CRASH_EXCEPTION,      /* reported through the default IDT: vector, error code, cr2 */
    VMC_CRASH_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN */
    VMC_CRASH_FAIL_ENTRY,     /* KVM_EXIT_FAIL_ENTRY */
    VMC_CRASH_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR, e.g. an instruction KVM cannot emulate */
    VMC_CRASH_UNHANDLED_EXIT, /* an exit the VMM has no handler for */
    VMC_CRASH_GUEST,          /* the guest asked: sched_op shutdown with VMC_SHUTDOWN_CRASH */
    VMC_CRASH_UNMAPPED,       /* the guest touched memory the VMM sealed (a Linux program's unmapped
                                 memory, vmc_mem_seal): KVM_RUN failed with EFAULT */
};

/* Guest register state at the stop. */
struct vmc_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    uint64_t cr0, cr2, cr3, cr4, efer;
    uint16_t cs, ss;
    uint8_t cpl;
};

struct vmc_result {
    enum vmc_stop stop;
    uint32_t status; /* VMC_STOP_EXIT: the guest's exit status */
    bool reboot;     /* VMC_STOP_EXIT: the guest asked for a restart (Xen SHUTDOWN_reboot); vmcall leaves
                        restarting to the caller */
    uint8_t signal;  /* Linux personality: the signal that ended the program, 0 if it exited. VMC_STOP_EXIT
                        (status is 128 + signal), or VMC_STOP_CRASH for a fault without a handler */
    enum vmc_crash crash;
    uint32_t vcpu; /* the vCPU that stopped the VM */
    /* VMC_CRASH_EXCEPTION */
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    /* VMC_CRASH_INTERNAL_ERROR: instruction bytes at rip, when known */
    uint8_t insn[15];
    uint8_t insn_len;
    struct vmc_exit exit; /* the exit that stopped the VM */
    struct vmc_regs regs; /* for exceptions, rip/rsp/rflags/cs/ss are those of the faulting context */
    char summary[192];    /* one line, e.g. "guest #PF at rip=0x401003 cr2=0x0 (write, not-present)" */
};

/*
 * Run the VM until it stops; fills *res. Returns 0 when the VM stopped for any guest-related reason
 * (including crashes and timeouts: see res->stop), negative errno when the VMM itself failed.
 */
int vmc_vm_run(struct vmc_vm *vm, struct vmc_result *res);
/* Ask a running VM to stop (any thread, async-signal-unsafe). vmc_vm_run returns VMC_STOP_CANCELLED.
 * Called while vmc_vm_run writes out the last console output, it cuts that short to at most a second. */
void vmc_vm_cancel(struct vmc_vm *vm);
/* Print the crash report for res (what happened, RIP, CPL, registers, control registers). */
void vmc_result_print(const struct vmc_result *res, FILE *f);

/*
 * Console output is queued (64 KiB) and written by a thread of the VM's own, so that a reader that stops
 * reading never stalls exit handling, a cancel or a timeout: a guest that fills the queue waits, and only
 * the vCPU that writes. vmc_vm_run returns once the output is written; when the run was cancelled, timed
 * out or failed, after at most a second more (what is left then is counted as unwritten). A write error
 * ends a running VM with VMC_STOP_ERROR and the error (-EPIPE for a closed pipe).
 */
struct vmc_console_stat {
    uint64_t written;   /* bytes written to console_out_fd */
    uint64_t dropped;   /* bytes past console_limit, or after a write error */
    uint64_t unwritten; /* bytes given up on when the final write-out was cut short */
    int error;          /* the first write error (negative errno), 0 if none */
};
void vmc_vm_console_stats(struct vmc_vm *vm, struct vmc_console_stat *out);

/*
 * Port I/O and MMIO buses: one handler signature for both. addr is the port or guest-physical address
 * accessed, data holds len bytes (written by the guest, or to fill for a read). A handler returns 0, or a
 * negative errno to stop the VM with VMC_STOP_ERROR. Accesses nobody claims read as all-ones and
 * writes are dropped; both are counted per address. Ranges may not overlap.
 */
typedef int (*vmc_io_fn)(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len,
                         bool write);
/*
 * Registration (vmc_vm_register_io, _mmio, _msr, _hypercall) is for a VM that is not running: -EBUSY
 * while vmc_vm_run is in progress. VMC_IO_F_USER: a user-mode (CPL3) guest may reach these ports (the
 * TSS I/O permission bitmap is derived from the ports registered with it and from the I/O policy).
 */
#define VMC_IO_F_USER 1u
int vmc_vm_register_io(struct vmc_vm *vm, uint16_t port, uint32_t count, vmc_io_fn fn, void *opaque,
                       unsigned flags);
int vmc_vm_register_mmio(struct vmc_vm *vm, uint64_t gpa, uint64_t len, vmc_io_fn fn, void *opaque);
/* The 0.1 spellings, kept working: vmc_io_register = vmc_vm_register_io with flags 0. */
int vmc_io_register(struct vmc_vm *vm, uint16_t port, uint32_t count, vmc_io_fn fn, void *opaque);
int vmc_mmio_register(struct vmc_vm *vm, uint64_t gpa, uint64_t len, vmc_io_fn fn, void *opaque);

/*
 * I/O policy: the VMM's I/O bitmap (VMX I/O bitmaps A and B, SDM vol. 3C 25.6.4). A port with a policy
 * other than PASS is intercepted; a multi-byte access is intercepted if any of its ports is, and takes
 * the strictest policy among them (DENY over IGNORE); an access wrapping past port 0xFFFF is always
 * denied. PASS: to the device (unclaimed ports read all-ones, writes are dropped). IGNORE: never reaches
 * a device; reads return all-ones, writes are dropped, both counted. DENY: #GP(0) is injected at the
 * I/O instruction, which has no effect. A port without a policy of its own gets PASS when a device
 * claims it, else config io_default. For user-mode guests the TSS I/O permission bitmap follows: ports
 * set to PASS or IGNORE are opened for CPL3, DENY closes them (the CPU raises the #GP itself).
 * Set before or between runs.
 */
enum vmc_io_policy {
    VMC_IO_PASS = 0,
    VMC_IO_IGNORE = 1,
    VMC_IO_DENY = 2,
};
int vmc_vm_set_io_policy(struct vmc_vm *vm, uint16_t port, uint32_t count, enum vmc_io_policy policy);
/* The effective policy of one port (as the I/O bitmap dump shows it). */
enum vmc_io_policy vmc_vm_io_policy(const struct vmc_vm *vm, uint16_t port);

/*
 * MSR policy: the VMM's MSR bitmap, through KVM's MSR filter (KVM_X86_SET_MSR_FILTER with
 * KVM_CAP_X86_USER_SPACE_MSR; docs/abi-reference.md). ALLOW: KVM handles the MSR as usual (the default).
 * DENY: RDMSR/WRMSR of it raise #GP. A registered handler serves both (0 = done, negative = #GP), like a port
 * on the bus; the hypercall-page MSR is the VMM's own such handler. At most VMC_MSR_RULES_MAX denied or
 * handled MSRs, in at most 16 clusters of 512 consecutive indices. -EOPNOTSUPP on hosts without the filter.
 */
#define VMC_MSR_RULES_MAX 64
enum vmc_msr_policy {
    VMC_MSR_ALLOW = 0,
    VMC_MSR_DENY = 1,
};
int vmc_vm_set_msr_policy(struct vmc_vm *vm, uint32_t index, enum vmc_msr_policy policy);
typedef int (*vmc_msr_fn)(struct vmc_vcpu *vcpu, void *opaque, uint32_t index, bool write, uint64_t *value);
int vmc_vm_register_msr(struct vmc_vm *vm, uint32_t index, vmc_msr_fn fn, void *opaque);
int vmc_msr_register(struct vmc_vm *vm, uint32_t index, vmc_msr_fn fn, void *opaque); /* 0.1 spelling */

/*
 * CPUID policy. Guests see KVM_GET_SUPPORTED_CPUID curated: VMX and SVM hidden, the hypervisor bit set,
 * vmcall's leaves at 0x40000000-0x40000002 (abi.h) in place of KVM's. Embedders override or add leaves
 * before the first run (-EBUSY after); index selects a subleaf for leaves that have them (4, 7, 0xb,
 * 0xd, ...). VMX and SVM stay hidden whatever an override says: this VMM cannot nest. Where the host
 * does not trap CPUID at CPL3 (some nested hosts), user-mode guests see the host's values instead.
 */
struct vmc_cpuid_leaf {
    uint32_t function, index;
    uint32_t eax, ebx, ecx, edx;
};
int vmc_vm_set_cpuid(struct vmc_vm *vm, const struct vmc_cpuid_leaf *leaf);
/* The leaf the guest will see, or -ENOENT when there is none (the CPU then reports the highest basic
 * leaf's values, SDM vol. 2A CPUID). */
int vmc_vm_get_cpuid(const struct vmc_vm *vm, uint32_t function, uint32_t index, struct vmc_cpuid_leaf *out);

/*
 * Event injection into a vCPU (any thread; the vCPU is kicked to take it promptly). Exceptions need a
 * vector 0-31 other than 2 (NMI), an error code exactly where the architecture defines one (8, 10-14,
 * 17, 21, 29, 30), and a CR2 value only for #PF (14). External interrupts take vectors 32-255 and are
 * delivered when the guest can take them (RFLAGS.IF and no interrupt shadow: KVM's interrupt window).
 * Invalid requests return -EINVAL and inject nothing; a second exception while one is pending -EBUSY.
 */
enum vmc_event_type {
    VMC_EVENT_EXCEPTION,
    VMC_EVENT_INTERRUPT,
    VMC_EVENT_NMI,
};
struct vmc_event {
    enum vmc_event_type type;
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    uint64_t cr2; /* #PF only: the faulting address the guest will see in CR2 */
};
int vmc_vcpu_inject(struct vmc_vcpu *vcpu, const struct vmc_event *ev);
/* The vCPU with this id, or NULL. */
struct vmc_vcpu *vmc_vm_vcpu(struct vmc_vm *vm, uint32_t id);

/*
 * The control block: one vCPU's state in the six areas of Intel's VMCS (SDM vol. 3C 25.3-25.9;
 * docs/abi-reference.md), mapped onto what KVM and this VMM keep. Read it, and write the guest state and
 * the pending event, while the vCPU is not running (before, between or after vmc_vm_run; -EBUSY during),
 * or from the vCPU's own thread inside a handler. A get followed later by a set restores the guest
 * registers, segments, control registers and DR7. The control words say what this VMM does:
 *   pin-based: external-interrupt and NMI exiting (a kick signal always ends KVM_RUN), virtual NMIs;
 *   primary: HLT exiting (no in-kernel irqchip: HLT comes to the VMM), interrupt-window exiting while an
 *     external interrupt waits, "use I/O bitmaps" when an I/O policy is set and otherwise "unconditional
 *     I/O exiting" (every port access exits to the VMM), "use MSR bitmaps" when KVM's MSR filter is
 *     installed, "activate secondary controls";
 *   secondary: enable EPT (guest-physical memory is a second translation: memslots, EPT-violation exits);
 *   exit: host address-space size, save and load IA32_EFER (EFER travels with every exit);
 *   entry: IA-32e mode guest (EFER.LMA), load IA32_EFER.
 */
struct vmc_vmcs_segment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t access_rights; /* VMX layout (SDM 25.4.1): type, S, DPL, P, AVL, L, D/B, G; bit 16 unusable */
};
#define VMC_ACTIVITY_ACTIVE 0u
#define VMC_ACTIVITY_HLT 1u
#define VMC_ACTIVITY_SHUTDOWN 2u
#define VMC_ACTIVITY_WAIT_SIPI 3u /* down: waiting for VMC_VCPUOP_UP, as an AP waits for a SIPI */
/* VMX interruption information (SDM vol. 3C 25.8.3, 28.2.2): exit records, the entry event. */
#define VMC_INTR_INFO_VALID (1u << 31)
#define VMC_INTR_VECTOR(i) ((i)&0xffu)
#define VMC_INTR_TYPE_MASK (7u << 8)
#define VMC_INTR_TYPE_EXT_INTR (0u << 8)
#define VMC_INTR_TYPE_NMI (2u << 8)
#define VMC_INTR_TYPE_HW_EXC (3u << 8)
#define VMC_INTR_TYPE_SW_INTR (4u << 8)
#define VMC_INTR_TYPE_PRIV_SW_EXC (5u << 8)
#define VMC_INTR_TYPE_SW_EXC (6u << 8)
#define VMC_INTR_DELIVER_CODE (1u << 11)
/*
 * VMX control words (SDM vol. 3C 25.6.1, 25.6.2, 25.7.1, 25.8.1): the bits the control block sets are
 * those that describe what this VMM does (vmc_vcpu_get_vmcs documents each).
 */
#define VMC_PIN_EXT_INTR_EXITING (1u << 0)
#define VMC_PIN_NMI_EXITING (1u << 3)
#define VMC_PIN_VIRTUAL_NMIS (1u << 5)
#define VMC_PROC_INTR_WINDOW_EXITING (1u << 2)
#define VMC_PROC_HLT_EXITING (1u << 7)
#define VMC_PROC_UNCOND_IO_EXITING (1u << 24)
#define VMC_PROC_USE_IO_BITMAPS (1u << 25)
#define VMC_PROC_USE_MSR_BITMAPS (1u << 28)
#define VMC_PROC_ACTIVATE_SECONDARY (1u << 31)
#define VMC_PROC2_ENABLE_EPT (1u << 1)
#define VMC_EXITCTL_HOST_ADDR_SPACE_SIZE (1u << 9)
#define VMC_EXITCTL_SAVE_EFER (1u << 20)
#define VMC_EXITCTL_LOAD_EFER (1u << 21)
#define VMC_ENTRYCTL_IA32E_MODE_GUEST (1u << 9)
#define VMC_ENTRYCTL_LOAD_EFER (1u << 15)
struct vmc_vmcs {
    uint32_t vcpu;
    struct { /* guest-state area */
        uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
        uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
        uint64_t rip, rflags;
        uint64_t cr0, cr2, cr3, cr4, efer, dr7;
        struct vmc_vmcs_segment es, cs, ss, ds, fs, gs, ldtr, tr;
        uint64_t gdtr_base, idtr_base;
        uint32_t gdtr_limit, idtr_limit;
        uint32_t interruptibility; /* bit 0 blocking by STI, 1 by MOV SS, 3 by NMI (SDM table 25-3) */
        uint32_t activity;         /* VMC_ACTIVITY_* */
    } guest;
    struct {               /* host-state area: what stands for it in a userspace VMM */
        int32_t thread_id; /* Linux TID of the thread that last ran the vCPU, 0 if none */
        int32_t last_cpu;  /* host CPU of its last exit, -1 if unknown */
        uint64_t runs, halts, halt_ns, events_injected;
    } host;
    struct {                                         /* VM-execution controls */
        uint32_t pin_based;                          /* VMC_PIN_* */
        uint32_t primary;                            /* VMC_PROC_* (primary processor-based) */
        uint32_t secondary;                          /* VMC_PROC2_* */
        uint32_t io_intercepted_a, io_intercepted_b; /* ports 0-0x7fff / 0x8000-0xffff not passed */
        uint32_t io_default;                         /* enum vmc_io_policy */
        uint32_t msr_rules;                          /* denied or handled MSRs (the MSR bitmap) */
        bool msr_filter;                             /* KVM's MSR filter is in use */
        uint32_t exception_bitmap;                   /* vectors the VMM's default IDT reports */
        uint32_t cpuid_leaves;                       /* entries in the guest's CPUID table */
        bool hlt_blocks;                             /* HLT with IF=1 blocks until an interrupt is due */
        bool user_hypercalls;                        /* CPL3 callers allowed */
        uint64_t timer_deadline_ns;                  /* set_timer, 0 = none */
        uint8_t timer_vector;
        uint64_t timeout_ns; /* the VM's run timeout, 0 = none */
    } exec;
    struct {                    /* VM-exit controls */
        uint32_t controls;      /* VMC_EXITCTL_* */
        bool host_64;           /* "host address-space size": the VMM is 64-bit */
        bool save_efer;         /* EFER travels with every exit (sync regs) */
        bool stop_on_triple;    /* shutdown ends the VM as a crash */
        bool report_exceptions; /* the default IDT turns guest exceptions into exits */
        bool time_handlers;     /* config stats: handler time per exit */
    } exit_ctl;
    struct {                        /* VM-entry controls */
        uint32_t controls;          /* VMC_ENTRYCTL_* */
        bool ia32e_mode;            /* guest in IA-32e mode (EFER.LMA) */
        uint32_t interruption_info; /* the event injected at the next entry, VMC_INTR_* (0 = none) */
        uint32_t exception_error_code;
        uint64_t pending_irr[4]; /* further external interrupts waiting for the interrupt window */
    } entry;
    struct vmc_exit exit_info; /* the last exit */
};
int vmc_vcpu_get_vmcs(struct vmc_vcpu *vcpu, struct vmc_vmcs *out);
/* Writes guest state (not host state or controls: those have their own calls) and the entry event: a
 * valid interruption_info replaces any pending exception or NMI, 0 cancels them (pending_irr is
 * left alone). Invalid events are refused with -EINVAL and nothing is changed. */
int vmc_vcpu_set_vmcs(struct vmc_vcpu *vcpu, const struct vmc_vmcs *in);
/* The stable text format of `vmcall run --dump-vmcs`: one "area.field value" line per field. */
void vmc_vmcs_print(const struct vmc_vmcs *v, FILE *f);

/* From a handler: end the VM after this exit, as if the guest exited with status. */
void vmc_vcpu_exit(struct vmc_vcpu *vcpu, uint32_t status);
struct vmc_vm *vmc_vcpu_vm(struct vmc_vcpu *vcpu);
uint32_t vmc_vcpu_id(const struct vmc_vcpu *vcpu);

/*
 * Hypercalls (see abi.h for the guest side). Library users add their own calls in the user range
 * VMC_HC_USER_BASE..VMC_HYPERCALL_NR_MAX-1, before or between runs. The handler returns the guest's
 * result: >= 0, or a negative VMC_E* code. args holds the five arguments in call order (already truncated
 * for 32-bit callers, compat = true). VMC_HC_F_USER lets CPL3 callers in (when the VM allows them).
 */
#define VMC_HC_F_USER 1u
struct vmc_hypercall_args {
    uint32_t nr;
    uint64_t args[5];
    bool compat; /* caller in 32-bit mode */
    uint8_t cpl;
};
typedef int64_t (*vmc_hypercall_fn)(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a);
int vmc_vm_register_hypercall(struct vmc_vm *vm, uint32_t nr, const char *name, vmc_hypercall_fn fn,
                              void *opaque, unsigned flags);
int vmc_hypercall_register(struct vmc_vm *vm, uint32_t nr, const char *name, vmc_hypercall_fn fn,
                           void *opaque, unsigned flags); /* 0.1 spelling */
/* Restrict the VM to these call numbers (others get -VMC_EPERM and are counted). n = 0 allows none. */
int vmc_vm_allow_hypercalls(struct vmc_vm *vm, const uint32_t *nrs, size_t n);
/* The number of a standard call by name ("console_write"), or -ENOENT. Also accepts decimal numbers. */
int vmc_hypercall_lookup(const char *name);
/* The same for a personality's table (enum vmc_personality): Xen's calls by their Xen names
 * ("console_io", "memory_op"), Linux's system calls by theirs ("read", "openat"). */
int vmc_hypercall_lookup_in(uint32_t personality, const char *name);
/*
 * From inside a hypercall handler: copy from/to a guest handle (guest-linear address of the caller,
 * translated and permission-checked as described in abi.h). Return 0 or -EFAULT; a failed copy_to writes
 * nothing unless the guest changes its page tables concurrently.
 */
int vmc_vcpu_copy_from_guest(struct vmc_vcpu *vcpu, void *dst, uint64_t gaddr, size_t len);
int vmc_vcpu_copy_to_guest(struct vmc_vcpu *vcpu, uint64_t gaddr, const void *src, size_t len);

/* Statistics, kept for the lifetime of the VM. */
struct vmc_exit_stat {
    uint32_t reason; /* basic exit reason */
    uint64_t count;
    uint64_t total_ns; /* handler time; 0 unless config.stats */
};
struct vmc_addr_stat {
    uint64_t addr; /* port, or guest-physical address for MMIO */
    uint64_t reads, writes;
    uint64_t unclaimed_reads, unclaimed_writes;
    uint64_t ignored, denied; /* ports only: accesses the I/O policy ignored or denied (#GP) */
};
/* Copy up to max entries with a non-zero count, in reason order; returns the number available. */
size_t vmc_vm_exit_stats(const struct vmc_vm *vm, struct vmc_exit_stat *out, size_t max);
/* Per-port (mmio = false) or per-address MMIO statistics, in address order; returns the number available. */
size_t vmc_vm_addr_stats(const struct vmc_vm *vm, bool mmio, struct vmc_addr_stat *out, size_t max);
struct vmc_hypercall_stat {
    uint32_t nr;
    const char *name;
    uint64_t count;    /* calls dispatched to a handler */
    uint64_t errors;   /* of those, results < 0 */
    uint64_t denied;   /* refused: CPL, allow-list */
    uint64_t total_ns; /* handler time; 0 unless config.stats */
};
/* Per call number, for numbers seen at least once, in number order; returns the number available. */
size_t vmc_vm_hypercall_stats(const struct vmc_vm *vm, struct vmc_hypercall_stat *out, size_t max);
/* Print the exit, port, MMIO and hypercall tables in the `vmcall run --stats` format. */
void vmc_vm_print_stats(const struct vmc_vm *vm, FILE *f);

/* The name of a basic exit reason ("IO_INSTRUCTION", ...), or "UNKNOWN". */
const char *vmc_exit_reason_name(uint32_t reason);

#ifdef __cplusplus
}
#endif
#endif /* VMCALL_VMCALL_H */
