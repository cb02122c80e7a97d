/* SPDX-License-Identifier: MIT */
/* Negative guest (--user): ports outside the TSS I/O bitmap's grants raise #GP(0) at CPL3. */
#include "vmcall/guest.h"

int main(void)
{
    printf("console works\n");
    vmcg_outb(0x80, 1);
    printf("not reached\n");
    return 0;
}
