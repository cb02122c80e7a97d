/* SPDX-License-Identifier: MIT */
/* Negative guest: executing from an address with no RAM behind it (MMIO) is something KVM cannot
 * emulate; the VM must stop with an internal-error report, on any host. */
#include "vmcall/guest.h"

static uint64_t pd[512] __attribute__((aligned(4096)));

int main(void)
{
    /* Map 0xc0000000 (the MMIO window) with one 2 MiB page through PDPT slot 3, then jump there. */
    pd[0] = VMC_MMIO_BASE | 0x83; /* present, writable, 2 MiB */
    volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PDPT;
    pdpt[3] = (uint64_t)(uintptr_t)pd | 0x3;
    __asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
    ((void (*)(void))(uintptr_t)VMC_MMIO_BASE)();
    return 0;
}
