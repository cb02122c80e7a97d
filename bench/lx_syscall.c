/* SPDX-License-Identifier: MIT */
/* Benchmark program for the Linux personality (static musl): `N` makes N getppid system calls, `-c N`
 * N iterations of floating-point work and no system call (the CPU-bound case). */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "-c")) {
        long n = atol(argv[2]);
        volatile double x = 0;
        for (long i = 1; i <= n; i++)
            x += 1.0 / ((double)i * (double)i);
        return x > 1.6 ? 0 : 1;
    }
    long n = argc > 1 ? atol(argv[1]) : 0;
    volatile long sink = 0;
    for (long i = 0; i < n; i++)
        sink += syscall(SYS_getppid);
    return 0;
}
