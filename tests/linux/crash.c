/* SPDX-License-Identifier: MIT */
/* Linux-personality test: a program killed by a signal ends with 128 + signal, as a shell reports it;
 * one that waits for ever is still stopped by a timeout. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static volatile unsigned char *shared;
static volatile int stop;

static void *reader(void *arg)
{
    (void)arg;
    unsigned long sum = 0;
    for (unsigned n = 0; !stop; n++)
        sum += shared[n & 4095];
    return (void *)sum;
}

static void never(int sig)
{
    (void)sig;
}

/* Sets a reserved bit of the XSAVE header in its own frame (XCOMP_BV, byte 520 of the image): Linux
 * refuses such a frame at sigreturn with SIGSEGV. */
static void spoil_xstate(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    ((volatile unsigned char *)uc->uc_mcontext.fpregs)[520] = 1;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    printf("%s\n", how);
    fflush(stdout);
    if (!strcmp(how, "segv"))
        *(volatile int *)(uintptr_t)0x7fff0000dead0ull = 1;
    if (!strcmp(how, "null"))
        return *(volatile int *)(uintptr_t)argc - 2; /* argc 2: reads address 0 */
    if (!strcmp(how, "abort"))
        abort();
    if (!strcmp(how, "ill"))
        __asm__ volatile("ud2");
    if (!strcmp(how, "fpe")) {
        volatile int z = argc - 2;
        return 10 / z;
    }
    if (!strcmp(how, "term"))
        raise(SIGTERM);
    if (!strcmp(how, "unmapped")) { /* memory given back with munmap faults, as on Linux */
        volatile unsigned char *p =
            mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[4096] = 1;
        munmap((void *)(p + 4096), 4096);
        printf("still mapped: %d\n", p[0]);
        fflush(stdout);
        return p[4096];
    }
    if (!strcmp(how, "epipe") || !strcmp(how, "epipe-ignored")) { /* a pipe whose reader is gone */
        int p[2];
        if (!strcmp(how, "epipe-ignored"))
            signal(SIGPIPE, SIG_IGN);
        if (pipe(p) != 0 || close(p[0]) != 0)
            return 1;
        long w = write(p[1], "x", 1);
        printf("write=%ld %s\n", w, strerror(errno));
        return 4;
    }
    if (!strcmp(how, "readonly")) { /* mprotect(PROT_READ): reading goes on, writing faults */
        volatile unsigned char *p =
            mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 7;
        mprotect((void *)p, 4096, PROT_READ);
        long r = read(0, (void *)p, 1); /* the kernel may not write it either */
        printf("read %d, read(2) into it: %ld %s\n", p[0], r, strerror(errno));
        fflush(stdout);
        p[0] = 8;
        return 8;
    }
    if (!strcmp(how, "nx") || !strcmp(how, "jit")) { /* code in memory mapped without PROT_EXEC */
        static const unsigned char code[] = { 0xb8, 42, 0, 0, 0, 0xc3 }; /* mov $42, %eax; ret */
        unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memcpy(p, code, sizeof(code));
        int (*fn)(void) = (int (*)(void))(uintptr_t)p;
        if (!strcmp(how, "jit")) { /* RX runs; taking execute away (only that) stops it */
            mprotect(p, 4096, PROT_READ | PROT_EXEC);
            printf("rx: %d\n", fn());
            mprotect(p, 4096, PROT_READ);
            printf("r: %d, calling it\n", p[0]);
            fflush(stdout);
        }
        return fn();
    }
    if (!strcmp(how, "stack-exec")) { /* the stack is not executable (PT_GNU_STACK without PF_X) */
        unsigned char code[8] = { 0xb8, 42, 0, 0, 0, 0xc3 };
        int (*volatile fn)(void) = (int (*)(void))(uintptr_t)code;
        return fn();
    }
    if (!strcmp(how, "rights-race")) { /* a page read by one thread while another changes its rights */
        shared = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        pthread_t t;
        void *sum;
        pthread_create(&t, NULL, reader, NULL);
        for (int i = 0; i < 3000; i++) { /* readable throughout: only execute comes and goes */
            mprotect((void *)shared, 4096, PROT_READ);
            mprotect((void *)shared, 4096, PROT_READ | PROT_EXEC);
        }
        stop = 1;
        pthread_join(t, &sum);
        printf("read throughout: %lu\n", (unsigned long)sum);
        return 0;
    }
    if (!strcmp(how, "segv-blocked")) { /* a fault whose signal is blocked kills, handler or not */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        signal(SIGSEGV, never);
        sigprocmask(SIG_BLOCK, &set, NULL);
        return *(volatile int *)(uintptr_t)argc - 2;
    }
    /* 256 KiB (32 KiB: order-small) to stdout, then a line to stderr: on one pipe, in that order */
    if (!strcmp(how, "order") || !strcmp(how, "order-small")) {
        static char line[64];
        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\n';
        for (int i = 0; i < (strcmp(how, "order") ? 512 : 4096); i++)
            fwrite(line, 1, sizeof(line), stdout);
        fflush(stdout);
        fputs("stderr last\n", stderr);
        return 0;
    }
    if (!strcmp(how, "pipe")) { /* waits for ever on its own empty pipe: only the VMM can end it */
        int p[2];
        char c;
        if (pipe(p) == 0)
            return (int)read(p[0], &c, 1);
    }
    if (!strcmp(how, "bad-xstate")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = spoil_xstate;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        return 6; /* not reached: the return from the handler is refused */
    }
    if (!strcmp(how, "ignored")) {
        signal(SIGTERM, SIG_IGN);
        raise(SIGTERM);
        return 5;
    }
    return 1;
}
