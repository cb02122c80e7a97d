/* SPDX-License-Identifier: MIT */
/* Guest test: IPI ping-pong between vCPU 0 and vCPU 1, each halting (IF=1) until the other's interrupt. */
#include "vmcall/guest.h"

#define ROUNDS 10
static uint8_t stack1[8192] __attribute__((aligned(16)));
static volatile long got[2]; /* interrupts taken by vCPU 0 and by vCPU 1 */

/* Ping (0x50, to vCPU 1) and pong (0x51, to vCPU 0) share one handler: the interrupted stack tells which
 * vCPU took it. */
__attribute__((interrupt)) static void on_ipi(struct vmcg_iframe *f)
{
    got[f->sp >= (uintptr_t)stack1 && f->sp <= (uintptr_t)stack1 + sizeof(stack1)]++;
}

/* Halt until *counter reaches want; checking with IF=0 and halting with sti;hlt loses no wakeup. */
static void wait_for(volatile long *counter, long want)
{
    vmcg_irq_disable();
    while (*counter < want) {
        vmcg_halt();
        vmcg_irq_disable();
    }
    vmcg_irq_enable();
}

static void pong(void *arg)
{
    (void)arg;
    for (long i = 1; i <= ROUNDS; i++) {
        wait_for(&got[1], i);
        vmcg_send_ipi(0, 0x51);
    }
}

int main(void)
{
    vmcg_set_handler(0x50, (void *)on_ipi);
    vmcg_set_handler(0x51, (void *)on_ipi);
    long r = vmcg_vcpu_start(1, pong, 0, stack1, sizeof(stack1));
    for (long i = 1; i <= ROUNDS && r == 0; i++) {
        vmcg_send_ipi(1, 0x50);
        wait_for(&got[0], i);
    }
    printf("start=%ld ping-pong rounds=%ld/%ld\n", r, got[1], got[0]);
    return 0;
}
