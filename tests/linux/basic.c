/* SPDX-License-Identifier: MIT */
/* Linux-personality test (musl, static): the process a program starts with and the calls a C library
 * makes, each result printed exactly; run natively and under vmcall run --linux, the output must match. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/times.h>
#include <sys/wait.h>
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
    char name[16] = { 0 };
    prctl(PR_GET_NAME, name);
    printf("name=%s", name);
    prctl(PR_SET_NAME, "renamed-to-a-long-name");
    prctl(PR_GET_NAME, name);
    gid_t groups[4];
    printf(" renamed=%s dumpable=%d groups=%d\n", name, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
           getgroups(4, groups));
    /* poll and select on a pipe: nothing, a timeout that passes, then data; a descriptor never opened */
    int pp[2];
    if (pipe(pp) != 0)
        return 1;
    struct pollfd pf[3] = { { pp[0], POLLIN, 0 }, { 1, POLLOUT, 0 }, { 77, POLLIN, 0 } };
    int pr = poll(pf, 1, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int pw = poll(pf, 1, 30);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (write(pp[1], "x", 1) != 1)
        return 1;
    int pd = poll(pf, 3, -1);
    printf("poll: empty=%d waited>=30ms=%s data=%d revents=%#x,%#x,%#x\n", pr,
           pw == 0 && waited >= 30 ? "yes" : "NO", pd, pf[0].revents, pf[1].revents, pf[2].revents);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pp[0], &rd);
    struct timeval tv = { 0, 20000 };
    int sr = select(pp[0] + 1, &rd, NULL, NULL, &tv);
    printf("select: ready=%d set=%d\n", sr, FD_ISSET(pp[0], &rd));
    char c;
    if (read(pp[0], &c, 1) != 1)
        return 1;
    FD_SET(pp[0], &rd);
    sr = select(FD_SETSIZE, &rd, NULL, NULL, &tv);
    printf("select: timed out=%d set=%d left=%ld.%06ld\n", sr, FD_ISSET(pp[0], &rd), (long)tv.tv_sec,
           (long)tv.tv_usec);
    struct timespec res;
    struct rusage ru;
    struct tms tm;
    int cr = clock_getres(CLOCK_MONOTONIC, &res), ur = getrusage(RUSAGE_SELF, &ru), wst;
    clock_t tk = times(&tm);
    errno = 0;
    int wr = waitpid(-1, &wst, 0);
    printf("clock_getres=%d %ld.%09ld getrusage=%d times=%s waitpid=%d %s\n", cr, (long)res.tv_sec,
           res.tv_nsec, ur, tk != (clock_t)-1 ? "ok" : "failed", wr, strerror(errno));
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
