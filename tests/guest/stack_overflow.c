/* SPDX-License-Identifier: MIT */
/* Negative guest: unbounded recursion runs into the unmapped guard page below the stack. */
#include "vmcall/guest.h"

static volatile int limit = 1 << 30; /* opaque to the compiler: the recursion is "bounded" */

static int deeper(int n)
{
    volatile char frame[3000];
    frame[0] = (char)n;
    frame[sizeof(frame) - 1] = (char)n;
    if (n > limit)
        return 0;
    return deeper(n + 1) + frame[0];
}

int main(int argc, char **argv)
{
    (void)argv;
    return deeper(argc);
}
