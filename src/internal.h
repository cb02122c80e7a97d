/* SPDX-License-Identifier: MIT */
/* Private types and functions shared by the libvmcall sources. */
#ifndef VMCALL_SRC_INTERNAL_H
#define VMCALL_SRC_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Statistics shared by vCPU threads. */
#define STAT_ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define VMC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VMC_ERR_MAX 256

struct vmc_kvm {
    int fd;
    int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
    int kick_signal;
    struct kvm_cpuid2 *cpuid; /* curated guest CPUID, built once from KVM_GET_SUPPORTED_CPUID */
};

/* A guest-physical range backed by host memory (a KVM memslot). */
struct vmc_region {
    uint64_t gpa, size;
    uint8_t *host;
    uint32_t slot;
};
#define VMC_MAX_REGIONS 512

/*
 * Guest RAM: boot RAM at guest-physical 0, plus hot-added regions (sorted, non-overlapping, with holes
 * between them). Touched only through the checked accessors in memory.c.
 */
struct vmc_regions {
    struct vmc_regions *older; /* the table this one replaced, freed with the VM */
    size_t n;
    struct vmc_region r[];
};
struct vmc_mem {
    uint8_t *host; /* boot RAM */
    uint64_t size;
    /* Hot-added regions, copy-on-write: other vCPUs read the table without a lock while memory_op
     * publishes a new one (regions are only ever added, and tables are freed with the VM). */
    struct vmc_regions *_Atomic extra;
};

/* Bounds- and overflow-checked translation of [gpa, gpa+len) to a host pointer; NULL unless the whole
 * range lies in one region. */
void *vmc_mem_ptr(const struct vmc_mem *mem, uint64_t gpa, uint64_t len);
/* Copies that may span adjacent regions; -EFAULT if any byte falls in a hole or outside RAM. */
int vmc_mem_read(const struct vmc_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int vmc_mem_write(const struct vmc_mem *mem, uint64_t gpa, const void *buf, uint64_t len);
/* Zero [gpa, gpa+len) without touching untouched host pages where possible. */
int vmc_mem_zero(const struct vmc_mem *mem, uint64_t gpa, uint64_t len);

/* Guest-virtual translation through the guest's 4-level page tables. */
#define VMC_ACC_WRITE 1u
#define VMC_ACC_USER 2u
#define VMC_ACC_FETCH 4u
int vmc_gva_to_gpa(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, uint64_t *gpa);
/* Copy len bytes from/to guest-virtual gva, page by page. -EFAULT if any page is unmapped or not
 * permitted (vmc_gva_write adds VMC_ACC_WRITE). Nothing is written unless every page translates. */
int vmc_gva_read(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, void *buf,
                 uint64_t len);
int vmc_gva_write(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, const void *buf,
                  uint64_t len);

/* Address -> handler map for one bus, plus per-address counters. */
struct vmc_iorange {
    uint64_t base, len;
    vmc_io_fn fn;
    void *opaque;
};
struct vmc_counter {
    uint64_t addr;
    uint64_t reads, writes, unclaimed_reads, unclaimed_writes, ignored, denied;
};
struct vmc_bus {
    struct vmc_iorange *ranges; /* sorted by base, non-overlapping; fixed once the VM runs */
    size_t nranges, cap;
    pthread_mutex_t ctr_lock; /* vCPUs count concurrently */
    struct vmc_counter *ctr;  /* open-addressed hash on addr; addr ~0 = empty */
    size_t nctr, ctrcap;
};
void vmc_bus_init(struct vmc_bus *bus);
void vmc_bus_free(struct vmc_bus *bus);
int vmc_bus_register(struct vmc_bus *bus, uint64_t base, uint64_t len, vmc_io_fn fn, void *opaque);
/* Dispatch one access; unclaimed reads fill data with 0xff. Returns the handler's result. */
int vmc_bus_access(struct vmc_bus *bus, struct vmc_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
                   bool write);
size_t vmc_bus_stats(const struct vmc_bus *bus, struct vmc_addr_stat *out, size_t max);
/* Count an access the I/O policy stopped before the bus. */
void vmc_bus_count_policy(struct vmc_bus *bus, uint64_t addr, bool denied);
bool vmc_bus_claimed(const struct vmc_bus *bus, uint64_t addr);

/* I/O policy (control.c): 0 = pass to the bus, 1 = handled here (ignored, or #GP queued). */
int vmc_io_filter(struct vmc_vcpu *vcpu, uint16_t port, uint32_t size, bool write, void *data,
                  uint32_t count);
void vmc_x86_update_iomap(struct vmc_vm *vm);
/* MSR policy (control.c): install the filter; the rule for an index, or NULL. */
int vmc_msr_apply(struct vmc_vm *vm);
const struct vmc_msr_rule *vmc_msr_rule(const struct vmc_vm *vm, uint32_t index);
/* The VMM's own MSR handlers (exit.c), filtered whenever MSR exits are available. */
extern const uint32_t vmc_builtin_msrs[];
extern const size_t vmc_nbuiltin_msrs;

/* Buffered console writer shared by the console devices. */
struct vmc_console {
    pthread_mutex_t lock; /* init with vmc_console_init: vCPUs write concurrently */
    int out_fd, in_fd;
    bool in_eof;
    size_t len;
    char buf[4096];
};
void vmc_console_init(struct vmc_console *con, int out_fd, int in_fd);
void vmc_console_destroy(struct vmc_console *con);
void vmc_console_putc(struct vmc_console *con, uint8_t c);
void vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len);
void vmc_console_flush(struct vmc_console *con);
/* Read up to len bytes without blocking; returns the count (0 when nothing is available or at EOF). */
size_t vmc_console_read(struct vmc_console *con, uint8_t *buf, size_t len);

/* 16550A UART state, kept apart from the VM so that it can be unit-tested. */
struct vmc_uart {
    struct vmc_console *con;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thri_pending; /* THR-empty interrupt identified until IIR is read */
    uint8_t rx[16];
    unsigned rx_head, rx_len;
};
void vmc_uart_init(struct vmc_uart *u, struct vmc_console *con);
/* Access register reg (0-7) of the UART. */
uint8_t vmc_uart_read(struct vmc_uart *u, unsigned reg);
void vmc_uart_write(struct vmc_uart *u, unsigned reg, uint8_t val);

/* A device model: created with the VM, registers its own ranges. Listed once in dev/device.c. */
struct vmc_device_ops {
    const char *name;
    int (*create)(struct vmc_vm *vm, void **state);
    void (*destroy)(void *state);
};
extern const struct vmc_device_ops *const vmc_devices[];
extern const size_t vmc_ndevices;

/* Why a vCPU asked to stop, set by exit handlers and devices. VMC_STOP_DOWN stops only that vCPU. */
#define VMC_STOP_DOWN ((enum vmc_stop)100)
struct vmc_stop_req {
    enum vmc_stop stop;
    uint32_t status;
    enum vmc_crash crash;
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    bool frame_valid; /* rip/rsp/... below come from an exception frame */
    uint64_t rip, rsp, rflags;
    uint16_t cs, ss;
};

/* Events waiting for the next entry (event.c); guarded by vm->lock. */
struct vmc_pending {
    _Atomic bool any; /* read without the lock on every entry: the common case is nothing pending */
    bool exception, nmi;
    struct vmc_event exc;
    uint64_t irr[4]; /* external interrupt vectors requested, like a PIC's IRR */
};
int vmc_event_check(const struct vmc_event *ev);
/* Before KVM_RUN, in the vCPU thread: load pending events into kvm_run. */
int vmc_event_deliver(struct vmc_vcpu *vcpu);
/* With vm->lock held: raise external interrupt vector on vcpu and wake or kick it. */
void vmc_event_raise_irq_locked(struct vmc_vcpu *vcpu, uint8_t vector);
/* With vm->lock held: make the vCPU's thread notice new state (wake a blocked wait, or signal KVM_RUN). */
void vmc_vcpu_kick_locked(struct vmc_vcpu *vcpu);
/* Is an external interrupt waiting for this vCPU? (vm->lock held) */
bool vmc_event_irq_pending_locked(const struct vmc_vcpu *vcpu);
/* The highest vector requested in an IRR bitmap, or -1. */
int vmc_event_highest_irr(const uint64_t irr[4]);
/*
 * Block the vCPU thread until an interrupt is pending, the VM stops, the vCPU is taken down, or
 * `until` (monotonic ns, 0 = none) passes. Returns true if an interrupt is pending. halt: the wait is a
 * HLT (activity state, and counted in --stats).
 */
bool vmc_vcpu_block(struct vmc_vcpu *vcpu, uint64_t until, bool halt);
/* Start the VM's timer thread if needed (vm->lock held); -errno on failure. */
int vmc_timer_start_locked(struct vmc_vm *vm);
void vmc_timer_stop(struct vmc_vm *vm);

/* The hypercall being handled: caller context for guest-handle copies. */
struct vmc_hcall {
    struct vmc_vcpu *vcpu;
    struct vmc_hypercall_args a;
    bool paging; /* CR0.PG: handles are translated through cr3 */
    bool long64; /* 4-level paging in force (EFER.LMA) */
    uint64_t cr3;
    unsigned depth; /* multicall nesting */
};
typedef int64_t (*vmc_hc_fn)(struct vmc_hcall *hc);

/* Guest handles: typed guest addresses that host code can only pass to the copy helpers. */
#define VMC_HANDLE(T)                                                                                        \
    struct {                                                                                                 \
        uint64_t addr;                                                                                       \
        T *type_[0];                                                                                         \
    }
#define vmc_handle(h, a) ((h).addr = (a))
int vmc_hc_copy_from(const struct vmc_hcall *hc, void *dst, uint64_t gaddr, uint64_t len);
int vmc_hc_copy_to(const struct vmc_hcall *hc, uint64_t gaddr, const void *src, uint64_t len);
/* Host memory behind a guest buffer, as at most max iovecs (contiguous pages merged), every page
 * translated and permission-checked first (writable when the VMM will write into it). Returns the
 * count or -EFAULT. For bulk data only: the guest may change the buffer while the VMM uses it. */
struct iovec;
int vmc_hc_iov(const struct vmc_hcall *hc, uint64_t gaddr, uint64_t len, bool guest_writes, struct iovec *iov,
               int max);
/* Address of element idx of a handle, or -EFAULT when idx * size or the sum overflows. */
int vmc_handle_elem(uint64_t base, uint64_t idx, uint64_t size, uint64_t *out);
/* Copy n elements at element offset off; the pointer types of dst and h must match. */
#define copy_from_guest_offset(hc, dst, h, off, n)                                                           \
    ((void)sizeof((dst) == (h).type_[0]),                                                                    \
     vmc_hc_copy_elems_from((hc), (dst), (h).addr, (off), (n), sizeof(*(dst))))
#define copy_to_guest_offset(hc, h, off, src, n)                                                             \
    ((void)sizeof((src) == (h).type_[0]),                                                                    \
     vmc_hc_copy_elems_to((hc), (h).addr, (off), (src), (n), sizeof(*(src))))
#define copy_from_guest(hc, dst, h, n) copy_from_guest_offset(hc, dst, h, 0, n)
#define copy_to_guest(hc, h, src, n) copy_to_guest_offset(hc, h, 0, src, n)
int vmc_hc_copy_elems_from(const struct vmc_hcall *hc, void *dst, uint64_t base, uint64_t off, uint64_t n,
                           uint64_t size);
int vmc_hc_copy_elems_to(const struct vmc_hcall *hc, uint64_t base, uint64_t off, const void *src, uint64_t n,
                         uint64_t size);

/* Dispatch one call through the table (checks number, allow-list, CPL); used by the doorbell and
 * multicall. Returns the guest's result. */
int64_t vmc_hc_dispatch(struct vmc_hcall *hc);
int vmc_hypercall_write_page(struct vmc_vm *vm, uint64_t gpa);
uint64_t vmc_vm_features(const struct vmc_vm *vm);

/* Standard calls that live outside hypercall.c. */
int64_t vmc_hc_memory_op(struct vmc_hcall *hc);
int64_t vmc_hc_memory_op_compat(struct vmc_hcall *hc);
int64_t vmc_hc_block_op(struct vmc_hcall *hc);

struct vmc_user_hc {
    vmc_hypercall_fn fn;
    void *opaque;
    unsigned flags;
    char name[32];
};
struct vmc_hc_counter {
    uint64_t count, errors, denied, total_ns;
};

struct vmc_disk {
    int fd; /* -1: no disk */
    bool ro;
    uint64_t sectors;
};
int vmc_disk_open(struct vmc_vm *vm, const char *path, bool ro);
void vmc_disk_close(struct vmc_disk *d);
/* Hot-added memory bookkeeping (memop.c). */
void vmc_mem_free_extra(struct vmc_vm *vm);

enum vmc_vcpu_state {
    VMC_VCPU_DOWN, /* waiting for VMC_VCPUOP_UP (or never started) */
    VMC_VCPU_UP,
};

struct vmc_vcpu {
    struct vmc_vm *vm;
    uint32_t id;
    int fd;
    struct kvm_run *run;
    struct vmc_exit exit; /* the last decoded exit */
    struct vmc_stop_req req;
    struct vmc_hcall *hc; /* the hypercall being handled, for vmc_vcpu_copy_*_guest */
    struct vmc_pending pending;
    /* Guarded by vm->lock. */
    enum vmc_vcpu_state state;
    bool has_thread; /* a host thread of this vmc_vm_run serves this vCPU (joined when the run ends) */
    bool alive;      /* thread registered below: it may be signalled */
    bool blocked;    /* the thread waits on cond (halted, blocked, or down) */
    bool halted;     /* activity state HLT, for the control block */
    pthread_t thread;
    pthread_cond_t cond;
    uint64_t timer_deadline; /* VMC_HC_SET_TIMER, monotonic ns; 0 = none */
    uint8_t timer_vector;
    _Atomic bool down_req; /* another vCPU asked this one to go down */
    int rc;                /* the VMM error that stopped this vCPU's loop */
    int last_cpu;          /* host CPU of the last exit handled */
    pid_t tid;
    /* Counters (this vCPU's thread writes them). */
    uint64_t runs, halts, halt_ns, events_injected;
};

struct vmc_exit_counter {
    uint64_t count, total_ns;
};

struct vmc_vm {
    struct vmc_kvm *kvm;
    int fd;
    struct vmc_config cfg;
    char **argv; /* private copy of cfg.argv */
    struct vmc_mem mem;
    uint64_t entry;
    uint64_t image_start, image_end;
    bool loaded;
    struct vmc_vcpu *vcpus; /* nvcpus, created with the VM */
    uint32_t nvcpus;
    struct vmc_bus pio, mmio;
    struct vmc_console console;
    void *dev_state[8];
    struct vmc_exit_counter exits[VMC_EXIT_REASON_MAX];
    struct vmc_user_hc user_hc[VMC_HYPERCALL_NR_MAX - VMC_HC_USER_BASE];
    uint64_t hc_allowed[VMC_HYPERCALL_NR_MAX / 64]; /* allow-list bitmap */
    bool hc_allow_user;
    struct vmc_hc_counter hc_stats[VMC_HYPERCALL_NR_MAX];
    struct vmc_disk disk;
    struct vmc_msr_rule {
        uint32_t index;
        bool deny; /* else fn handles it */
        vmc_msr_fn fn;
        void *opaque;
    } msr_rules[VMC_MSR_RULES_MAX];
    unsigned nmsr_rules;
    bool msr_exits;           /* KVM exits to us for filtered MSRs */
    struct kvm_cpuid2 *cpuid; /* this VM's CPUID: the curated one plus overrides (control.c) */
    uint8_t io_policy[65536]; /* per port: 0 = none of its own, else 1 + enum vmc_io_policy */
    bool io_policy_set;       /* some port has a policy of its own */
    uint64_t max_pages, populated_pages;
    uint64_t hcpage_msr; /* last value written to VMC_MSR_HYPERCALL_PAGE */
    bool msr_discovery;
    bool started, finished;
    _Atomic bool cancel;
    pthread_mutex_t lock;       /* vCPU states and threads, pending events, timers, the stop below */
    pthread_mutex_t memop_lock; /* one memory_op at a time */
    bool running;               /* inside vmc_vm_run */
    _Atomic bool stopping;      /* a vCPU stopped the VM: every vCPU thread leaves */
    struct vmc_vcpu *stopper;   /* the vCPU whose stop ends the run */
    uint32_t nup;               /* vCPUs up */
    uint64_t deadline;          /* config timeout as monotonic ns, 0 = none */
    bool timer_started, timer_quit;
    pthread_t timer_thread;
    pthread_cond_t timer_cond;
    char err[VMC_ERR_MAX];
};

/* First run: per-vCPU setup that must follow every configuration call (CPUID). */
int vmc_vm_start(struct vmc_vm *vm);
/* Give an up vCPU a host thread if this run has none for it yet (vm->lock held). */
int vmc_vcpu_spawn_locked(struct vmc_vcpu *vcpu);
/* Hypercalls for vCPUs and timers (smp.c). */
int64_t vmc_hc_vcpu_op(struct vmc_hcall *hc);
int64_t vmc_hc_set_timer(struct vmc_hcall *hc);
int64_t vmc_hc_send_ipi(struct vmc_hcall *hc);
void vmc_x86_init_ap_state(struct vmc_vm *vm, const struct kvm_sregs *caller, uint32_t id,
                           const struct vmc_vcpu_up *up, struct kvm_regs *regs, struct kvm_sregs *sregs);

/* Record a formatted error message on the VM; returns err (a negative errno) for tail calls. */
int vmc_vm_fail(struct vmc_vm *vm, int err, const char *fmt, ...) VMC_PRINTF(3, 4);
void vmc_errf(char *buf, size_t len, const char *fmt, ...) VMC_PRINTF(3, 4);

/* arch/x86: build page tables, GDT, IDT, TSS, boot info; initial vCPU state into sync regs. */
int vmc_x86_setup_memory(struct vmc_vm *vm);
int vmc_x86_write_boot_info(struct vmc_vm *vm);
void vmc_x86_init_vcpu_state(struct vmc_vm *vm, struct kvm_regs *regs, struct kvm_sregs *sregs);
int vmc_x86_build_cpuid(int kvm_fd, struct kvm_cpuid2 **out);
/* Clear what the guest must never see (VMX, SVM) and set the hypervisor bit, in one entry. */
void vmc_x86_cpuid_sanitize(struct kvm_cpuid_entry2 *e);

/* Exit decoding (pure) and dispatch. */
void vmc_exit_decode(const struct kvm_run *run, struct vmc_exit *ex);
int vmc_exit_dispatch(struct vmc_vcpu *vcpu, struct vmc_exit *ex);

/* ELF and flat loaders over guest memory (no KVM needed: unit-tested on fake memory). */
struct vmc_image {
    uint64_t entry, start, end;
};
int vmc_load_elf_fd(const struct vmc_mem *mem, int fd, const char *name, bool elf32, struct vmc_image *img,
                    char *err, size_t errlen);
int vmc_load_flat_fd(const struct vmc_mem *mem, int fd, const char *name, uint64_t gpa, struct vmc_image *img,
                     char *err, size_t errlen);

/* Vectors whose exceptions push an error code (SDM vol. 3A 6.15). */
bool vmc_x86_exc_has_error_code(unsigned vector);

/* Crash report helpers. */
void vmc_regs_from_kvm(struct vmc_regs *out, const struct kvm_regs *r, const struct kvm_sregs *s);
void vmc_describe_exception(char *buf, size_t len, uint8_t vector, bool has_ec, uint32_t ec, uint64_t rip,
                            uint64_t cr2);
const char *vmc_vector_name(uint8_t vector);

uint64_t vmc_now_ns(void);
/* Point this thread's kick handler at run (NULL when the thread leaves the vCPU). */
void vmc_kick_arm(struct kvm_run *run);

#endif /* VMCALL_SRC_INTERNAL_H */
