/* SPDX-License-Identifier: MIT */
/* Guest test: the host injects events (library test test_events): a #GP with an error code and a #PF
 * with a CR2 payload, asked for through hypercalls 64 and 65, then external interrupts 0x40 and 0x41
 * from another host thread while the guest waits with interrupts enabled. */
#include "vmcall/guest.h"

static volatile unsigned long gp_error, pf_cr2, irq40, irq41;

__attribute__((interrupt)) static void on_gp(struct vmcg_iframe *f, unsigned long error)
{
    (void)f;
    gp_error = error;
}

__attribute__((interrupt)) static void on_pf(struct vmcg_iframe *f, unsigned long error)
{
    (void)f;
    (void)error;
    pf_cr2 = vmcg_read_cr2();
}

__attribute__((interrupt)) static void on_irq40(struct vmcg_iframe *f)
{
    (void)f;
    irq40++;
}

__attribute__((interrupt)) static void on_irq41(struct vmcg_iframe *f)
{
    (void)f;
    irq41++;
}

int main(void)
{
    vmcg_set_handler(13, (void *)on_gp);
    vmcg_set_handler(14, (void *)on_pf);
    vmcg_set_handler(0x40, (void *)on_irq40);
    vmcg_set_handler(0x41, (void *)on_irq41);
    vmcg_hypercall0(64); /* host injects #GP(0x18) */
    vmcg_hypercall0(65); /* host injects #PF, cr2 = 0xdead000 */
    printf("gp error=0x%lx pf cr2=0x%lx\n", gp_error, pf_cr2);
    vmcg_hypercall0(66); /* host starts a thread that injects 0x41 then 0x40 */
    vmcg_irq_enable();
    while (!(irq40 && irq41))
        __asm__ volatile("pause");
    vmcg_irq_disable();
    printf("irq40=%lu irq41=%lu\n", irq40, irq41);
    return 0;
}
