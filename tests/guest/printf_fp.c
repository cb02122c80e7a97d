/* SPDX-License-Identifier: MIT */
/* Guest test: every printf case of printf_cases.h, one per line; guest.t compares the lines with what
 * glibc prints for them (tests/unit/printf_host.c). Built for kernel and for user mode: both SDKs. */
#include "vmcall/guest.h"

#include "printf_cases.h"

int main(void)
{
    PRINT_ALL_CASES();
    return 0;
}
