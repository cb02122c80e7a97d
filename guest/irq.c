/* SPDX-License-Identifier: MIT */
/* Guest IDT management: an SDK-owned IDT seeded from the VMM's default, gates set per vector. */
#include "vmcall/guest.h"

#if defined(__x86_64__)
static struct {
    uint64_t lo, hi;
} idt[256] __attribute__((aligned(16)));
static int idt_loaded;

void vmcg_set_handler(unsigned vector, void *handler)
{
    if (vector > 255)
        return;
    if (!idt_loaded) {
        memcpy(idt, (const void *)(uintptr_t)VMC_LAYOUT_IDT, sizeof(idt));
        struct __attribute__((packed)) {
            uint16_t limit;
            uint64_t base;
        } idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
        __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
        idt_loaded = 1;
    }
    /* 64-bit interrupt gate, present, DPL0, no IST: the handler runs on the interrupted stack. */
    uint64_t h = (uint64_t)(uintptr_t)handler;
    idt[vector].lo =
        (h & 0xffff) | ((uint64_t)VMC_SEL_KCODE64 << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
    idt[vector].hi = h >> 32;
}
#endif
