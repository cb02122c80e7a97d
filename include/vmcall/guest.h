/* SPDX-License-Identifier: MIT */
/* vmcall guest SDK: freestanding C runtime for guests (console, boot info, exit, a small libc). */
#ifndef VMCALL_GUEST_H
#define VMCALL_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmcall/abi.h"

/*
 * A guest defines `int main(void)` or `int main(int argc, char **argv)`, as in C: argv[0] is the program
 * (the guest's path as given to the VMM), argv[1..] the arguments given after `vmcall run GUEST --`. The
 * SDK's _start initialises the console and calls exit(main's return value).
 * Build with `vmcall-cc [--user] -o guest.elf guest.c` (see README).
 */

/* The boot information the VMM passed in RDI. */
const struct vmc_boot_info *vmcg_boot_info(void);
/* The command line: arguments joined by single spaces ("" when none). */
const char *vmcg_cmdline(void);

/* End the VM with this exit status (vmcall run exits with it when 0-123). Never returns. */
__attribute__((noreturn)) void exit(int status);

/*
 * Assertions for guest code and tests: on failure, print "ASSERT FAILED file:line: expression" (with
 * both values for VMCG_ASSERT_EQ) on the console, then stop the VM as crashed with status
 * VMCG_ASSERT_STATUS (sched_op shutdown, crash): `vmcall run` reports it and exits with 126.
 */
#define VMCG_ASSERT_STATUS 0xa55e77u
#define VMCG_ASSERT(cond) ((cond) ? (void)0 : vmcg_assert_fail(__FILE__, __LINE__, #cond, 0, 0, 0))
#define VMCG_ASSERT_EQ(a, b)                                                                                 \
    do {                                                                                                     \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);                       \
        if (a_ != b_)                                                                                        \
            vmcg_assert_fail(__FILE__, __LINE__, #a " == " #b, 1, a_, b_);                                   \
    } while (0)
__attribute__((noreturn)) void vmcg_assert_fail(const char *file, int line, const char *expr, int values,
                                                unsigned long long a, unsigned long long b);

/*
 * Hypercalls, through the hypercall page (never the doorbell directly). vmcg_hypercallN put arguments in
 * the registers of the convention this code is compiled for: KVM's (RBX, RCX, RDX, RSI, RDI) by default,
 * Xen's (RDI, RSI, RDX, R10, R8) with -DVMCG_ABI_XEN; 32-bit guests use EBX, ECX, EDX, ESI, EDI.
 * The SDK's own calls take at most 3 arguments and load both conventions' registers, so the SDK works in
 * a VM of either convention. Calls are synchronous; the stub clobbers only RAX (the result).
 */
extern char *vmcg_hypercall_page;
#define VMCG_STUB(nr) ((void *)(vmcg_hypercall_page + (unsigned long)(nr)*VMC_HYPERCALL_STUB_SIZE))

#if defined(__x86_64__) && !defined(VMCG_ABI_XEN)
#define VMCG_HC_ARGS3 "b"(a1), "c"(a2), "d"(a3)
#define VMCG_HC_ARGS5 "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
#elif defined(__x86_64__)
#define VMCG_HC_ARGS3 "D"(a1), "S"(a2), "d"(a3)
#define VMCG_HC_ARGS5 "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
#else
#define VMCG_HC_ARGS3 "b"(a1), "c"(a2), "d"(a3)
#define VMCG_HC_ARGS5 "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
#endif

static inline long vmcg_hypercall3(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
    long ret;
    __asm__ volatile("call *%[fn]" : "=a"(ret) : [fn] "r"(VMCG_STUB(nr)), VMCG_HC_ARGS3 : "memory");
    return ret;
}
static inline long vmcg_hypercall5(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
                                   unsigned long a4, unsigned long a5)
{
    long ret;
#if defined(__x86_64__) && defined(VMCG_ABI_XEN)
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
#endif
    __asm__ volatile("call *%[fn]" : "=a"(ret) : [fn] "r"(VMCG_STUB(nr)), VMCG_HC_ARGS5 : "memory");
    return ret;
}
static inline long vmcg_hypercall0(unsigned nr)
{
    return vmcg_hypercall3(nr, 0, 0, 0);
}
static inline long vmcg_hypercall1(unsigned nr, unsigned long a1)
{
    return vmcg_hypercall3(nr, a1, 0, 0);
}
static inline long vmcg_hypercall2(unsigned nr, unsigned long a1, unsigned long a2)
{
    return vmcg_hypercall3(nr, a1, a2, 0);
}
static inline long vmcg_hypercall4(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
                                   unsigned long a4)
{
    return vmcg_hypercall5(nr, a1, a2, a3, a4, 0);
}

/* Either convention, up to three arguments: what the SDK itself uses. */
static inline long vmcg_hypercall_any(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
    long ret;
#if defined(__x86_64__)
    __asm__ volatile("call *%[fn]"
                     : "=a"(ret)
                     : [fn] "r"(VMCG_STUB(nr)), "b"(a1), "D"(a1), "c"(a2), "S"(a2), "d"(a3)
                     : "memory");
#else
    __asm__ volatile("call *%[fn]"
                     : "=a"(ret)
                     : [fn] "r"(VMCG_STUB(nr)), "b"(a1), "c"(a2), "d"(a3)
                     : "memory");
#endif
    return ret;
}

/* The standard calls (abi.h documents each). Pointers are passed as guest handles. */
long vmcg_version(struct vmc_version *out);
long vmcg_console_read(void *buf, size_t len);
long vmcg_sched_yield(void);
long vmcg_sched_block(uint64_t timeout_ns);
long vmcg_shutdown(uint32_t reason, uint32_t status);
long vmcg_time(struct vmc_time *out);
uint64_t vmcg_monotonic_ns(void);
long vmcg_random(void *buf, size_t len);
long vmcg_memory_op(unsigned cmd, void *arg);
long vmcg_multicall(void *entries, unsigned long nr); /* vmc_multicall_entry[] (compat layout in 32-bit) */
long vmcg_block_info(struct vmc_block_info *out);
long vmcg_block_read(uint64_t sector, uint64_t count, void *buf);
long vmcg_block_write(uint64_t sector, uint64_t count, const void *buf);
long vmcg_block_flush(void);

/*
 * vCPUs, interrupts between them, timers (abi.h: VMC_HC_VCPU_OP, VMC_HC_SEND_IPI, VMC_HC_SET_TIMER).
 * vmcg_vcpu_start runs fn(arg) on vCPU `vcpu` with the given stack, in the caller's context (same page
 * tables, IDT and privilege); when fn returns the vCPU goes down and may be started again.
 */
unsigned vmcg_vcpu_count(void);
unsigned vmcg_cpu_id(void); /* this vCPU's id (a hypercall: cache it where it matters) */
#if defined(__x86_64__)
long vmcg_vcpu_start(unsigned vcpu, void (*fn)(void *), void *arg, void *stack, size_t stack_size);
#endif
long vmcg_vcpu_down(unsigned vcpu); /* the caller's own id: does not return */
long vmcg_vcpu_is_up(unsigned vcpu);
long vmcg_send_ipi(unsigned vcpu, unsigned vector);
long vmcg_set_timer(uint64_t deadline_ns, unsigned vector); /* on vmcg_monotonic_ns()'s clock; 0 cancels */

/* Atomics (GCC builtins, sequentially consistent) and a spinlock that yields to the host after a while
 * spinning, as paravirtual spinlocks do: a preempted holder then gets to run. */
static inline long vmcg_atomic_add(volatile long *p, long v) /* returns the new value */
{
    return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}
static inline long vmcg_atomic_load(const volatile long *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void vmcg_atomic_store(volatile long *p, long v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}
static inline int vmcg_atomic_cmpxchg(volatile long *p, long *expected, long desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
typedef struct {
    volatile int locked;
} vmcg_spinlock_t;
#define VMCG_SPINLOCK_INIT                                                                                   \
    {                                                                                                        \
        0                                                                                                    \
    }
void vmcg_spin_lock(vmcg_spinlock_t *l);
static inline int vmcg_spin_trylock(vmcg_spinlock_t *l)
{
    return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}
static inline void vmcg_spin_unlock(vmcg_spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Console output through the console_write hypercall: one exit per call, not per byte. */
void vmcg_console_write(const void *buf, size_t len);
/* The same bytes through COM1, for drivers and tests of the UART itself (16-byte FIFO bursts). */
void vmcg_uart_write(const void *buf, size_t len);
#define VMCG_EOF (-1)   /* console input ended (the UART reports a break condition) */
#define VMCG_EMPTY (-2) /* no input available right now */
/* Next input byte; waits for one (in the VMM: waiting costs no exits). VMCG_EOF at end of input. With an
 * interrupt handler installed and interrupts on, the handler runs while getc waits. */
int vmcg_getc(void);
/* Next input byte, or VMCG_EMPTY / VMCG_EOF without waiting. */
int vmcg_trygetc(void);
/* Write bytes to the debug console port 0xE9 (no UART involved). */
void vmcg_debug_write(const void *buf, size_t len);

#if defined(__x86_64__)
/*
 * Interrupts and exceptions, for kernel-mode guests. Handlers use GCC's interrupt attribute:
 *   __attribute__((interrupt)) void h(struct vmcg_iframe *f);                        no error code
 *   __attribute__((interrupt)) void h(struct vmcg_iframe *f, unsigned long error);   with one
 * The first vmcg_set_handler switches to an SDK-owned IDT that starts as a copy of the VMM's default
 * (so unhandled vectors are still reported), then sets a 64-bit interrupt gate for the vector.
 */
struct vmcg_iframe {
    uintptr_t ip, cs, flags, sp, ss;
};
void vmcg_set_handler(unsigned vector, void *handler);
static inline void vmcg_irq_enable(void)
{
    __asm__ volatile("sti" ::: "memory");
}
static inline void vmcg_irq_disable(void)
{
    __asm__ volatile("cli" ::: "memory");
}
/* Wait for an interrupt with interrupts enabled (STI's one-instruction shadow makes sti; hlt atomic:
 * an interrupt raised after a check made with IF=0 still wakes this HLT). Returns with IF=1. */
static inline void vmcg_halt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}
static inline uint64_t vmcg_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
#endif

/* Port I/O: vmcg_outb/inb, vmcg_outw/inw, vmcg_outl/inl. From user mode only the ports listed in abi.h
 * (and those the VM's I/O policy opens) are permitted; others raise #GP. */
#define VMCG_PORT_IO(sfx, type, reg)                                                                         \
    static inline void vmcg_out##sfx(uint16_t port, type v)                                                  \
    {                                                                                                        \
        __asm__ volatile("out" #sfx " %" reg "0, %1" : : "a"(v), "Nd"(port) : "memory");                     \
    }                                                                                                        \
    static inline type vmcg_in##sfx(uint16_t port)                                                           \
    {                                                                                                        \
        type v;                                                                                              \
        __asm__ volatile("in" #sfx " %1, %" reg "0" : "=a"(v) : "Nd"(port) : "memory");                      \
        return v;                                                                                            \
    }
VMCG_PORT_IO(b, uint8_t, "b")
VMCG_PORT_IO(w, uint16_t, "w")
VMCG_PORT_IO(l, uint32_t, "k")
#undef VMCG_PORT_IO

/* printf family: %d %i %u %x %X %p %s %c %%, flags '-' and '0', width and precision (also '*'),
 * length modifiers hh h l ll z j t. Output goes to the console. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

/* String and memory functions with their C library contracts. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);
char *strncat(char *dst, const char *src, size_t n);
char *strstr(const char *hay, const char *needle);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strpbrk(const char *s, const char *accept);
char *strtok_r(char *s, const char *delim, char **save);
char *strdup(const char *s); /* malloc'ed */
char *strndup(const char *s, size_t n);
/* Parse an unsigned/signed integer (base 0, 8, 10 or 16 as in C); *end set past the digits. */
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);

/*
 * The heap (guest/stdlib.c): malloc, calloc, realloc and free over the RAM the boot info reports free
 * (from the image's end to the end of RAM, taken at the first malloc), safe from several vCPUs. A
 * kernel-mode guest whose VM allows more (vmcall run --mem-max) grows it in 2 MiB steps with memory_op
 * populate. free() of a pointer malloc did not return stops the guest with an assertion report.
 */
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *));
int abs(int v);
long labs(long v);
long long llabs(long long v);
#define RAND_MAX 32767
int rand(void);
void srand(unsigned seed);
__attribute__((noreturn)) void abort(void); /* stops the VM as crashed (vmcall run: status 126) */

/* <ctype.h> for the C locale. */
static inline int isdigit(int c)
{
    return c >= '0' && c <= '9';
}
static inline int isupper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static inline int islower(int c)
{
    return c >= 'a' && c <= 'z';
}
static inline int isalpha(int c)
{
    return isupper(c) || islower(c);
}
static inline int isalnum(int c)
{
    return isalpha(c) || isdigit(c);
}
static inline int isxdigit(int c)
{
    return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline int isspace(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int isprint(int c)
{
    return c >= 0x20 && c < 0x7f;
}
static inline int ispunct(int c)
{
    return isprint(c) && c != ' ' && !isalnum(c);
}
static inline int toupper(int c)
{
    return islower(c) ? c - 'a' + 'A' : c;
}
static inline int tolower(int c)
{
    return isupper(c) ? c - 'A' + 'a' : c;
}

#endif /* VMCALL_GUEST_H */
