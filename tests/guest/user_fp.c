/* SPDX-License-Identifier: MIT */
/* Guest test (--user): SSE and x87 floating point at CPL3, where the full ISA runs natively. */
#include "vmcall/guest.h"

static double newton_sqrt(double x)
{
    double r = x;
    for (int i = 0; i < 40; i++)
        r = 0.5 * (r + x / r);
    return r;
}

int main(int argc, char **argv)
{
    (void)argv;
    volatile double two = 2.0 + argc * 0.0;
    double s = newton_sqrt(two);
    double pi = 0;
    for (int k = 0; k < 200000; k++)
        pi += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
    long double ld = (long double)two; /* x87 */
    ld = ld * ld * ld;
    printf("sqrt2*1e9=%lld pi*1e6=%lld x87 2^3=%d cpl=%u\n", (long long)(s * 1e9), (long long)(pi * 1e6),
           (int)ld, (vmcg_boot_info()->flags & VMC_BOOT_F_USER) ? 3u : 0u);
    return 0;
}
