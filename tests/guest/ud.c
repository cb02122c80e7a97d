/* SPDX-License-Identifier: MIT */
/* Negative guest: an undefined instruction (ud2) is reported as #UD at its address. */
#include "vmcall/guest.h"

int main(void)
{
    __asm__ volatile(".globl ud_here\nud_here: ud2");
    return 0;
}
