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
struct vmc_mem {
    uint8_t *host; /* boot RAM */
    uint64_t size;
    struct vmc_region *extra;
    size_t nextra;
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
    uint64_t reads, writes, unclaimed_reads, unclaimed_writes;
};
struct vmc_bus {
    struct vmc_iorange *ranges; /* sorted by base, non-overlapping */
    size_t nranges, cap;
    struct vmc_counter *ctr; /* open-addressed hash on addr; addr ~0 = empty */
    size_t nctr, ctrcap;
};
void vmc_bus_init(struct vmc_bus *bus);
void vmc_bus_free(struct vmc_bus *bus);
int vmc_bus_register(struct vmc_bus *bus, uint64_t base, uint64_t len, vmc_io_fn fn, void *opaque);
/* Dispatch one access; unclaimed reads fill data with 0xff. Returns the handler's result. */
int vmc_bus_access(struct vmc_bus *bus, struct vmc_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
                   bool write);
size_t vmc_bus_stats(const struct vmc_bus *bus, struct vmc_addr_stat *out, size_t max);

/* Buffered console writer shared by the console devices. */
struct vmc_console {
    int out_fd, in_fd;
    bool in_eof;
    size_t len;
    char buf[4096];
};
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

/* Why a vCPU asked to stop, set by exit handlers and devices. */
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

struct vmc_vcpu {
    struct vmc_vm *vm;
    uint32_t id;
    int fd;
    struct kvm_run *run;
    struct vmc_exit exit; /* the last decoded exit */
    struct vmc_stop_req req;
    struct vmc_hcall *hc; /* the hypercall being handled, for vmc_vcpu_copy_*_guest */
    struct vmc_pending pending;
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
    struct vmc_vcpu vcpu;
    struct vmc_bus pio, mmio;
    struct vmc_console console;
    void *dev_state[8];
    struct vmc_exit_counter exits[VMC_EXIT_REASON_MAX];
    struct vmc_user_hc user_hc[VMC_HYPERCALL_NR_MAX - VMC_HC_USER_BASE];
    uint64_t hc_allowed[VMC_HYPERCALL_NR_MAX / 64]; /* allow-list bitmap */
    bool hc_allow_user;
    struct vmc_hc_counter hc_stats[VMC_HYPERCALL_NR_MAX];
    struct vmc_disk disk;
    uint64_t max_pages, populated_pages;
    uint64_t hcpage_msr; /* last value written to VMC_MSR_HYPERCALL_PAGE */
    bool msr_discovery;
    uint64_t events_injected;
    bool started, finished;
    _Atomic bool cancel;
    pthread_mutex_t lock; /* guards running/thread against vmc_vm_cancel */
    bool running;
    pthread_t thread; /* valid while running */
    char err[VMC_ERR_MAX];
};

/* Record a formatted error message on the VM; returns err (a negative errno) for tail calls. */
int vmc_vm_fail(struct vmc_vm *vm, int err, const char *fmt, ...) VMC_PRINTF(3, 4);
void vmc_errf(char *buf, size_t len, const char *fmt, ...) VMC_PRINTF(3, 4);

/* arch/x86: build page tables, GDT, IDT, TSS, boot info; initial vCPU state into sync regs. */
int vmc_x86_setup_memory(struct vmc_vm *vm);
int vmc_x86_write_boot_info(struct vmc_vm *vm);
void vmc_x86_init_vcpu_state(struct vmc_vm *vm, struct kvm_regs *regs, struct kvm_sregs *sregs);
int vmc_x86_build_cpuid(int kvm_fd, struct kvm_cpuid2 **out);

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
