/* SPDX-License-Identifier: MIT */
/* Negative guest: vCPU 3 of 4 executes ud2 while the others spin; the report names vCPU 3. With an
 * argument, every vCPU just spins (for timeouts and cancellation). */
#include "vmcall/guest.h"

static uint8_t stacks[4][4096] __attribute__((aligned(16)));
static int spin_only;

static void ap(void *arg)
{
    if ((long)arg == 3 && !spin_only)
        __asm__ volatile(".globl ud_on_3\nud_on_3: ud2");
    for (;;)
        __asm__ volatile("pause");
}

int main(int argc, char **argv)
{
    (void)argv;
    spin_only = argc > 1;
    for (long i = 1; i < 4; i++)
        vmcg_vcpu_start((unsigned)i, ap, (void *)i, stacks[i], sizeof(stacks[i]));
    for (;;)
        __asm__ volatile("pause");
}
