/* SPDX-License-Identifier: MIT */
/* Host twin of tests/guest/printf_fp.c: the same printf cases through glibc, the expected output. */
#include <stdio.h>

#include "../guest/printf_cases.h"

#define D(fmt, v) printf("[" fmt "]\n", (double)(v));
#define I(fmt, v) printf("[" fmt "]\n", (int)(v));
#define L(fmt, v) printf("[" fmt "]\n", (long double)(v));

int main(void)
{
    PRINTF_CASES(D, I, L)
    printf("[%#x] then [%s]\n", 255, "str");
    return 0;
}
