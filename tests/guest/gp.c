/* SPDX-License-Identifier: MIT */
/* Negative guest: a non-canonical access raises #GP(0). */
#include "vmcall/guest.h"

int main(void)
{
    return *(volatile int *)0x8000000000000000ull;
}
