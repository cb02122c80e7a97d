/* SPDX-License-Identifier: MIT */
/* Negative guest: a non-canonical access raises #GP(0). */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return *(volatile int *)0x8000000000000000ull;
}
