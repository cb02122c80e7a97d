/* SPDX-License-Identifier: MIT */
/* Benchmark program for the Linux personality (static musl): N getppid system calls, N from argv[1]. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0, s = 0;
    for (long i = 0; i < n; i++)
        s += syscall(SYS_getppid);
    return s == 0 ? 0 : 1;
}
