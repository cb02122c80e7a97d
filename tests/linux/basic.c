/* SPDX-License-Identifier: MIT */
/* Linux-personality test (musl, static): the process a program starts with and the calls a C library
 * makes, each result printed exactly; run natively and under vmcall run --linux, the output must match. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d argv1=%s\n", argc, argc > 1 ? argv[1] : "-");
    int nenv = 0;
    for (char **e = envp; *e; e++)
        nenv++;
    printf("env=%d VAR=%s\n", nenv, getenv("VAR") ? getenv("VAR") : "-");
    printf("pagesz=%lu random=%s phdr=%s\n", getauxval(AT_PAGESZ), getauxval(AT_RANDOM) ? "yes" : "no",
           getauxval(AT_PHDR) ? "yes" : "no");
    /* floating point, in user mode at native speed */
    double x = 0;
    for (int i = 1; i <= 1000000; i++)
        x += 1.0 / ((double)i * i);
    printf("zeta2=%.9f pi=%.6e\n", x, 3.141592653589793);
    /* the heap: many sizes, checked after the churn */
    enum { N = 4000 };
    static unsigned char *blk[N];
    static size_t len[N];
    uint32_t s = 12345, sum = 0, want = 0;
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < N; i++) {
            s = s * 1103515245u + 12345u;
            free(blk[i]);
            len[i] = (s >> 8) % (round == 3 ? 9000 : 600) + 1;
            blk[i] = malloc(len[i]);
            memset(blk[i], (int)(i & 0xff), len[i]);
        }
    for (int i = 0; i < N; i++) {
        want += (uint32_t)(i & 0xff) * (uint32_t)len[i];
        for (size_t k = 0; k < len[i]; k++)
            sum += blk[i][k];
        free(blk[i]);
    }
    printf("heap %s\n", sum == want ? "ok" : "CORRUPT");
    int v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (i * 7919) % 1000;
    qsort(v, 1000, sizeof(v[0]), cmp);
    int sorted = 1;
    for (int i = 0; i < 1000; i++)
        sorted &= v[i] == i;
    printf("qsort %s\n", sorted ? "ok" : "WRONG");
    unsigned char r[64] = { 0 };
    printf("getrandom=%zd\n", getrandom(r, sizeof(r), 0));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept 20 ms: %s\n", ms >= 20 && ms < 2000 ? "yes" : "NO");
    struct utsname u;
    uname(&u);
    printf("sysname=%s machine=%s\n", u.sysname, u.machine);
    /* bad pointers are EFAULT, never a crash of anything */
    errno = 0;
    void *volatile bad = (void *)16; /* hidden from the compiler's checks: the kernel must say EFAULT */
    long w = write(1, bad, 10);
    printf("write(bad)=%ld %s\n", w, strerror(errno));
    errno = 0;
    long un = uname((void *)24);
    printf("uname(bad)=%ld %s\n", un, strerror(errno));
    fflush(stdout);
    return argc > 2 ? atoi(argv[2]) : 0;
}
