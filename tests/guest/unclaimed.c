/* SPDX-License-Identifier: MIT */
/* Guest test: unclaimed ports read as all-ones, unclaimed writes vanish; port 0x510 may be claimed by a
 * library test's device. */
#include "vmcall/guest.h"

int main(void)
{
    uint8_t b = vmcg_inb(0x1234);
    uint32_t l = vmcg_inl(0x2000);
    vmcg_outb(0x80, 0x55);
    vmcg_outb(0x80, 0x56);
    vmcg_outl(0x510, 0xc0ffee);
    uint32_t dev = vmcg_inl(0x510);
    printf("inb(0x1234)=0x%x inl(0x2000)=0x%x inl(0x510)=0x%x\n", b, l, dev);
    return 0;
}
