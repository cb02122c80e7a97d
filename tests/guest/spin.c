/* SPDX-License-Identifier: MIT */
/* Negative guest: never finishes; only --timeout (or cancellation) stops it. */
#include "vmcall/guest.h"

int main(void)
{
    printf("spinning\n");
    for (;;)
        __asm__ volatile("" ::: "memory");
}
