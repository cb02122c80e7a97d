/* SPDX-License-Identifier: MIT */
/* The guest of examples/embed: reads the host's thermometer, sets its setpoint, asks the host to add up
 * an array with the host's own hypercall. */
#include "vmcall/guest.h"

#define THERMO_PORT 0x510
#define HC_SUM 64

int main(void)
{
    for (int i = 0; i < 3; i++)
        printf("temperature %u m°C\n", vmcg_inl(THERMO_PORT));
    vmcg_outl(THERMO_PORT, 19500);
    static const uint64_t values[] = { 1, 2, 3, 5, 8, 13, 21, 34 };
    long sum = vmcg_hypercall2(HC_SUM, (unsigned long)(uintptr_t)values, 8);
    long bad = vmcg_hypercall2(HC_SUM, 0x7ead00000000ul, 4);
    printf("sum=%ld, with a bad pointer=%ld (-EFAULT)\n", sum, bad);
    return sum == 87 && bad == -VMC_EFAULT ? 0 : 1;
}
