/* SPDX-License-Identifier: MIT */
/* Negative guest: a write to an unmapped address must be reported as #PF (write, not-present). */
#include "vmcall/guest.h"

int main(void)
{
    printf("about to fault\n");
    *(volatile uint64_t *)0x7ead00000000ull = 1;
    printf("not reached\n");
    return 0;
}
