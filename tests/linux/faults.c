/* SPDX-License-Identifier: MIT */
/* Linux-personality test: handlers for the signals faults raise (SIGSEGV, SIGILL, SIGFPE) run with
 * Linux's siginfo and ucontext, may return (the instruction runs again, every register and the SSE state
 * as they were) or jump out, and run on a sigaltstack when the stack is gone; the output must match the
 * native run, and so must the end: a handler that restores the default action lets the fault kill. */
#define _GNU_SOURCE /* REG_RIP */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile unsigned char *page;
static volatile uintptr_t null_ish = 16;
static volatile int seen_sig, seen_code;
static volatile uintptr_t seen_addr;

static void note(int sig, const siginfo_t *si)
{
    seen_sig = sig;
    seen_code = si->si_code;
    seen_addr = (uintptr_t)si->si_addr;
}

/* Opens the page and returns: the access runs again. The float work clobbers the SSE registers. */
static void open_page(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    note(sig, si);
    volatile double d = 3.25;
    d = d * d + 1.0;
    mprotect((void *)page, 4096, PROT_READ | PROT_WRITE);
}

static void jump_out(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    note(sig, si);
    siglongjmp(back, 1);
}

/* Steps over a 2-byte ud2 through the saved context. */
static void skip_ud2(int sig, siginfo_t *si, void *ucv)
{
    note(sig, si);
    ((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP] += 2;
}

/* Zeroes YMM0, all 256 bits, and steps over the ud2: the return must give the program its own back. */
static void zero_ymm0(int sig, siginfo_t *si, void *ucv)
{
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
    skip_ud2(sig, si, ucv);
}

/* YMM0 all ones across a fault whose handler zeroes it (the upper halves live only in the XSAVE
 * image). Without AVX (a CPU or a system that does not enable it) there is nothing to lose. */
static const char *ymm_across_handler(void)
{
    if (!__builtin_cpu_supports("avx"))
        return "kept";
    uint32_t out[8];
    __asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
                     "ud2\n\t"
                     "vmovdqu %%ymm0, %0"
                     : "=m"(out)
                     :
                     : "xmm0", "memory");
    for (int i = 0; i < 8; i++)
        if (out[i] != 0xffffffffu)
            return i < 4 ? "lower half changed" : "upper half changed";
    return "kept";
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}

static volatile int limit = 1 << 30; /* far beyond any stack: the recursion ends in the fault */

static int depth(int n)
{
    volatile char pad[1024]; /* every page of the stack is touched: none is jumped over */
    pad[0] = (char)n;
    return n < limit ? depth(n + 1) + pad[0] : 0;
}

/* A load from the sealed page with live RCX, R11 and XMM0: all must come back as they were. */
static void registers_survive(void)
{
    uint64_t rcx = 0x1122334455667788ull, r11 = 0x0badc0ffee0ddf00ull, v = 0;
    double x = 2.5, y = 0;
    __asm__ volatile("movq %[x], %%xmm0\n\t"
                     "movq %[rcx], %%rcx\n\t"
                     "movq %[r11], %%r11\n\t"
                     "movq (%[p]), %[v]\n\t"
                     "movq %%rcx, %[rcx]\n\t"
                     "movq %%r11, %[r11]\n\t"
                     "movq %%xmm0, %[y]"
                     : [v] "+r"(v), [rcx] "+r"(rcx), [r11] "+r"(r11), [y] "=m"(y)
                     : [x] "m"(x), [p] "r"(page)
                     : "rcx", "r11", "xmm0", "memory");
    printf("registers: rcx=%#llx r11=%#llx xmm0=%.2f load=%llu\n", (unsigned long long)rcx,
           (unsigned long long)r11, y, (unsigned long long)v);
}

int main(void)
{
    page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    on(SIGSEGV, open_page, 0);
    page[8] = 5; /* faults on PROT_NONE, the handler opens the page, the store runs again */
    printf("PROT_NONE: sig=%d code=%d addr=page+%ld value=%d\n", seen_sig, seen_code,
           (long)(seen_addr - (uintptr_t)page), page[8]);
    mprotect((void *)page, 4096, PROT_NONE);
    registers_survive();
    printf("... handler saw sig=%d code=%d\n", seen_sig, seen_code);

    on(SIGSEGV, jump_out, 0);
    if (!sigsetjmp(back, 1))
        *(volatile int *)null_ish = 1;
    printf("null: sig=%d code=%d addr=%#lx\n", seen_sig, seen_code, (unsigned long)seen_addr);

    on(SIGILL, skip_ud2, 0);
    uintptr_t at = 0;
    __asm__ volatile("lea 0f(%%rip), %0\n\t0: ud2" : "=r"(at));
    printf("ud2: sig=%d code=%d at the instruction: %d\n", seen_sig, seen_code, seen_addr == at);
    on(SIGILL, zero_ymm0, 0);
    printf("ymm0 across a handler that zeroes it: %s\n", ymm_across_handler());

    on(SIGFPE, jump_out, 0);
    volatile int zero = 0;
    if (!sigsetjmp(back, 1))
        printf("%d\n", 7 / zero);
    printf("divide: sig=%d code=%d\n", seen_sig, seen_code);

    stack_t ss = { .ss_sp = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                   .ss_size = 65536 };
    sigaltstack(&ss, NULL);
    on(SIGSEGV, jump_out, SA_ONSTACK);
    if (!sigsetjmp(back, 1))
        depth(0);
    printf("stack overflow: sig=%d code=%d, on the alternate stack\n", seen_sig, seen_code);

    signal(SIGSEGV, SIG_DFL); /* the default action again: the next fault ends the program */
    mprotect((void *)page, 4096, PROT_READ);
    fflush(stdout);
    page[0] = 1;
    return 0;
}
