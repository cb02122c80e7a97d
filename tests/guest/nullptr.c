/* SPDX-License-Identifier: MIT */
/* Negative guest: reading through a NULL pointer faults (page 0 is never mapped). */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    (void)argv;
    volatile int *p = (volatile int *)(uintptr_t)(argc - argc);
    return *p;
}
