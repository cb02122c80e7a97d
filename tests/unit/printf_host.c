/* SPDX-License-Identifier: MIT */
/* Host twin of tests/guest/printf_fp.c: the same printf cases through glibc, the expected output. */
#include <stdio.h>

#include "../guest/printf_cases.h"

int main(void)
{
    PRINT_ALL_CASES();
    return 0;
}
