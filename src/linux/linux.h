/* SPDX-License-Identifier: MIT */
/* The Linux personality: a static x86-64 Linux program at CPL3, its system calls served by the VMM. */
#ifndef VMCALL_SRC_LINUX_LINUX_H
#define VMCALL_SRC_LINUX_LINUX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../hypercall.h"

struct vmc_vm;
struct vmc_image;

#define VMC_LX_FD_MAX 256             /* descriptors per program (RLIMIT_NOFILE) */
#define VMC_LX_MAP_MAX 4096           /* free ranges the mmap area keeps track of */
#define VMC_LX_STACK (8ull << 20)     /* RLIMIT_STACK: the stack's part of RAM, at its top */
#define VMC_LX_STACK_GAP (1ull << 20) /* unmapped below the stack: Linux's stack_guard_gap */
#define VMC_LX_ENTRY 0x10000u         /* LSTAR: the system-call entry stub, in the hypercall page */

enum vmc_lx_fd_kind { LX_FD_FREE = 0, LX_FD_STDIN, LX_FD_STDOUT, LX_FD_STDERR, LX_FD_HOST };
struct vmc_lx_fd {
    uint8_t kind;
    bool cloexec;
    bool nonblock; /* the program's O_NONBLOCK: host descriptors are always non-blocking (see fs.c) */
    int host;      /* LX_FD_HOST: the host descriptor */
    char *path;    /* a directory's path from the root, for *at() calls relative to it */
};
struct vmc_lx_range {
    uint64_t start, end;
};
struct vmc_lx_sigaction {
    uint64_t handler, flags, restorer, mask;
};

/* A thread (a vCPU): the word to clear at its exit, and the futex it waits on. */
struct vmc_lx_thread {
    uint64_t clear_tid;
    uint64_t rseq;             /* the registered rseq area, 0 none */
    uint64_t uaddr, deadline;  /* deadline: monotonic ns, 0 none */
    uint64_t alt_sp, alt_size; /* sigaltstack, alt_size 0: none */
    bool sigreturned;          /* this call was rt_sigreturn: the registers are set, no sysret */
    uint64_t sigmask;          /* the thread's blocked signals (a new thread starts with its creator's) */
    char name[16];             /* prctl's PR_SET_NAME (Linux's comm), the program's name at first */
    bool polling;              /* poll/select waits: this run is a continuation of the same call */
    bool io_wait;              /* a read or write waits for the other end (a pipe, the console) */
    uint64_t sleep_until;      /* nanosleep's wake-up (monotonic ns), 0: not sleeping */
    uint64_t sleep_rem;        /* where it writes the time left when a handler cuts it short, 0: nowhere */
    uint64_t poll_deadline;    /* its monotonic deadline, 0: none */
    bool waiting;
    _Atomic bool woken; /* read by the scheduler's wake check without the lock */
    /* exit ran: the thread is gone for the program (no signal, no count) while its vCPU goes down.
     * Read by clone's wake check without the lock. */
    _Atomic bool exiting;
};

/* A Linux VM's state beyond vmcall's (owned by linux/). Every system call runs under `lock` (the table's
 * wrappers take it), so threads on several vCPUs see one descriptor table, memory map and futex queue. */
struct vmc_linux {
    pthread_mutex_t lock;
    struct vmc_lx_thread thread[VMC_VCPU_MAX];
    int root; /* the --root directory, opened before the sandbox; -1: no file system */
    bool rw;
    char cwd[4096]; /* the working directory, absolute within the root, without "." or ".." */
    struct vmc_lx_fd fd[VMC_LX_FD_MAX];
    /* RAM from the image up: image, break, mappings, guard gap, stack, page tables (pt_base up). */
    uint64_t image_lo, brk_start, brk, mmap_top, stack_low, pt_base;
    bool no_new_privs;              /* prctl */
    uint64_t alarm_at, alarm_every; /* ITIMER_REAL: next SIGALRM (monotonic ns, 0: none), period */
    uint32_t umask;                 /* taken from the modes of files and directories created */
    bool nx;                        /* the CPU has NX: pages can be mapped without execute */
    uint32_t xsave_size;            /* a signal frame's XSAVE image: bytes, and its features */
    uint64_t xfeatures;
    struct vmc_lx_range free[VMC_LX_MAP_MAX]; /* free ranges of [brk_start, mmap_top), sorted */
    uint32_t nfree;
    struct vmc_lx_sigaction sig[65];
    _Atomic uint64_t pending; /* signals raised with a handler installed, delivered at a system call's
                                 return; changed under `lock`, read without it to skip the lock */
    uint64_t unknown_calls;
};

/* Create (opening the root) and free; load-time set-up: the System V stack, the entry state, the MSRs
 * `syscall` needs and the entry stub. */
int vmc_linux_create(struct vmc_vm *vm);
void vmc_linux_free(struct vmc_vm *vm);
int vmc_linux_boot(struct vmc_vm *vm, const struct vmc_image *img, const char *path);
/* At the first run, once the VM's CPUID is in KVM: XSAVE for the program when that CPUID offers it. */
int vmc_linux_start(struct vmc_vm *vm);
/* A pending signal that is not blocked, delivered to its handler on the way back (linux/signal.c):
 * false when there is none. */
bool vmc_lx_deliver(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc);
/* An exception at CPL3 (f from the VMM's stub): true when the program's handler for its signal now runs;
 * else *signal is the signal that ends the program (linux/signal.c). */
struct vmc_fault_frame;
bool vmc_lx_fault(struct vmc_vcpu *vcpu, const struct vmc_fault_frame *f, uint8_t *signal);
/* CS and SS back to the program's (after a stub that ran at CPL0). */
void vmc_lx_user_segments(struct vmc_vcpu *vcpu);
/* A vector raised on a vCPU to make its thread take a signal before its next entry (vmc_lx_async). It
 * is never injected: the program runs with RFLAGS.IF clear, so KVM never has an interrupt window. */
#define VMC_LX_SIGNAL_VECTOR 0xfe
/* Signal sig to the program from `self`'s thread (which takes it first unless it blocks it): ignored,
 * ended (act stops the VM with 128 + sig), or pending for a handler, another thread that can take it
 * made to (the caller holds the personality's lock). */
void vmc_lx_send(struct vmc_vcpu *self, unsigned sig, struct vmc_action *act);
/* Before each entry: a signal raised for this thread (VMC_LX_SIGNAL_VECTOR) runs its handler from
 * wherever the thread is, or ends the program (act); an alarm that came due is sent. */
void vmc_lx_async(struct vmc_vcpu *vcpu, struct vmc_action *act);
/* RIP and RFLAGS as `sysretq` loads them (SDM vol. 2B SYSRET): RIP = RCX, RFLAGS = R11 without RF and VM. */
static inline void vmc_lx_sysret_regs(struct kvm_regs *r)
{
    r->rip = r->rcx;
    r->rflags = (r->r11 & ~((1ull << 16) | (1ull << 17))) | 2u;
}
/* The table's return path: `sysret` done by the VMM (linux/boot.c). */
void vmc_linux_sysret(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc, int64_t result);
/* The arguments a call takes (for --trace), kept in the table entry's flags above VMC_HC_USER, and
 * which of them are paths (printed as strings). */
#define VMC_LX_NARGS(n) ((unsigned)(n) << 8)
#define VMC_LX_STR(i) (1u << (11 + (i)))

/* Helpers for the handlers (linux/util.c). */
int64_t vmc_lx_path(const struct vmc_hcall *hc, uint64_t addr, char *out, size_t size);

#endif /* VMCALL_SRC_LINUX_LINUX_H */
