/* SPDX-License-Identifier: MIT */
/* Negative guest: with an empty IDT any exception escalates to a triple fault (shutdown). */
#include "vmcall/guest.h"

int main(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { 0, 0 };
    __asm__ volatile("lidt %0\n\tud2" : : "m"(idtr));
    return 0;
}
