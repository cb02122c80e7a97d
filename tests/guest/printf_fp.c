/* SPDX-License-Identifier: MIT */
/* Guest test: every printf case of printf_cases.h, one per line; guest.t compares the lines with what
 * glibc prints for them (tests/unit/printf_host.c). Built for kernel and for user mode: both SDKs. */
#include "vmcall/guest.h"

#include "printf_cases.h"

#define D(fmt, v) printf("[" fmt "]\n", (double)(v));
#define I(fmt, v) printf("[" fmt "]\n", (int)(v));
#define L(fmt, v) printf("[" fmt "]\n", (long double)(v));

int main(void)
{
    PRINTF_CASES(D, I, L)
    /* The example: an argument after a conversion that used to be left unconsumed. */
    printf("[%#x] then [%s]\n", 255, "str");
    return 0;
}
