/* SPDX-License-Identifier: MIT */
/* Guest test: a set_timer interrupt wakes a halted vCPU (tolerance 20 ms..2 s); sched_op block waits for
 * its timeout, or returns early once an interrupt is pending; a cancelled timer never fires. */
#include "vmcall/guest.h"

#define MS 1000000ull
static volatile long fired;
static volatile uint64_t fired_at;

__attribute__((interrupt)) static void on_timer(struct vmcg_iframe *f)
{
    (void)f;
    fired_at = vmcg_monotonic_ns();
    fired++;
}

int main(void)
{
    vmcg_set_handler(0x40, (void *)on_timer);
    uint64_t t0 = vmcg_monotonic_ns();
    long r = vmcg_set_timer(t0 + 20 * MS, 0x40);
    vmcg_irq_disable();
    while (!fired) {
        vmcg_halt();
        vmcg_irq_disable();
    }
    vmcg_irq_enable();
    uint64_t waited = fired_at - t0;
    printf("set_timer=%ld fired=%ld after>=20ms=%d before 2s=%d\n", r, fired, waited >= 20 * MS,
           waited < 2000 * MS);

    t0 = vmcg_monotonic_ns();
    r = vmcg_sched_block(10 * MS);
    printf("block=%ld waited>=10ms=%d\n", r, vmcg_monotonic_ns() - t0 >= 10 * MS);

    vmcg_irq_disable();
    vmcg_set_timer(vmcg_monotonic_ns() + 5 * MS, 0x40);
    r = vmcg_sched_block(0); /* no timeout: only the pending interrupt ends it */
    long before = fired;
    while (fired < 2) { /* taken once IF=1 (how soon after STI depends on the host) */
        vmcg_halt();
        vmcg_irq_disable();
    }
    vmcg_irq_enable();
    printf("block until pending=%ld fired before sti=%ld after=%ld\n", r, before, fired);

    vmcg_set_timer(vmcg_monotonic_ns() + 1 * MS, 0x40);
    vmcg_set_timer(0, 0);
    vmcg_sched_block(30 * MS);
    printf("cancelled timer: fired=%ld bad vector=%ld\n", fired, vmcg_set_timer(1, 7));
    return 0;
}
