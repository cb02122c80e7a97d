/* SPDX-License-Identifier: MIT */
/* Negative guest (--user): the VMM's GDT page is supervisor-only, so a user read faults (protection). */
#include "vmcall/guest.h"

int main(void)
{
    return *(volatile int *)(uintptr_t)VMC_LAYOUT_GDT;
}
