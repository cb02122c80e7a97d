/* SPDX-License-Identifier: MIT */
/* Guest test: the SDK's printf conversions, flags, widths and length modifiers. */
#include "vmcall/guest.h"

int main(void)
{
    char buf[16];
    printf("[%d] [%i] [%u] [%x] [%X] [%c] [%s] [%%]\n", -42, 7, 3000000000u, 0xbeef, 0xbeef, 'z', "str");
    printf("[%5d] [%-5d] [%05d] [%5s] [%-5s] [%.2s]\n", 42, 42, -42, "ab", "ab", "abcdef");
    printf("[%ld] [%lld] [%llu] [%lx] [%zu] [%zd]\n", -1234567890123L, -9223372036854775807LL - 1,
           18446744073709551615ULL, 0xdeadbeefcafeUL, (size_t)12345, (long)-5);
    printf("[%p] [%p] [%08x] [%*d] [%-*d] [%.3d] [%+d]\n", (void *)0x1000, (void *)0, 0xabc, 6, 1, 4, 2, 5,
           9);
    int n = snprintf(buf, sizeof(buf), "%s-%d", "truncated-output", 123);
    printf("snprintf -> %d [%s]\n", n, buf);
    const char *volatile null = 0;
    printf("[%s] [%hhd] [%hu]\n", null, 300, 70000);
    return 0;
}
