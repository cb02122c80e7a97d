/* SPDX-License-Identifier: MIT */
/* Guest test: every vCPU adds to one counter under the SDK spinlock; the total must be exact. Also the
 * vcpu_op, send_ipi and set_timer error codes. Argument: iterations per vCPU (default 1000). */
#include "vmcall/guest.h"

static vmcg_spinlock_t lock = VMCG_SPINLOCK_INIT;
static volatile long counter, done;
static long iters = 1000;
static uint8_t stacks[VMC_VCPU_MAX][4096] __attribute__((aligned(16)));

static volatile long spins, restarted;

static void spin_forever(void *arg)
{
    (void)arg;
    for (;;)
        vmcg_atomic_add(&spins, 1);
}

static void mark(void *arg)
{
    (void)arg;
    vmcg_atomic_store(&restarted, 1);
}

static void work(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++) {
        vmcg_spin_lock(&lock);
        counter = counter + 1; /* a plain read-modify-write: only the lock makes it exact */
        vmcg_spin_unlock(&lock);
    }
    vmcg_atomic_add(&done, 1);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iters = strtol(argv[1], 0, 0);
    unsigned n = vmcg_vcpu_count();
    printf("vcpu_op: self=%u busy=%ld noent=%ld bad cmd=%ld is_up(0)=%ld\n", vmcg_cpu_id(),
           vmcg_vcpu_start(0, work, 0, stacks[0], sizeof(stacks[0])),
           vmcg_vcpu_start(n, work, 0, stacks[0], sizeof(stacks[0])),
           vmcg_hypercall_any(VMC_HC_VCPU_OP, 99, 0, 0), vmcg_vcpu_is_up(0));
    printf("send_ipi: bad vector=%ld noent=%ld; set_timer: bad vector=%ld\n", vmcg_send_ipi(0, 31),
           vmcg_send_ipi(n, 0x40), vmcg_set_timer(1, 256));
    for (unsigned i = 1; i < n; i++)
        VMCG_ASSERT_EQ(vmcg_vcpu_start(i, work, 0, stacks[i], sizeof(stacks[i])), 0);
    work(0);
    while (vmcg_atomic_load(&done) < (long)n)
        vmcg_sched_yield();
    /* Each vCPU goes down when work returns; wait for all of them. */
    for (unsigned i = 1; i < n; i++)
        while (vmcg_vcpu_is_up(i))
            vmcg_sched_yield();
    printf("vcpus=%u counter=%ld expected=%ld\n", n, counter, (long)n * iters);
    VMCG_ASSERT_EQ(counter, (long)n * iters);
    if (n > 1) { /* take down another vCPU that never stops by itself, then start it anew */
        vmcg_vcpu_start(1, spin_forever, 0, stacks[1], sizeof(stacks[1]));
        while (vmcg_atomic_load(&spins) == 0)
            vmcg_sched_yield();
        long down = vmcg_vcpu_down(1);
        while (vmcg_vcpu_is_up(1))
            vmcg_sched_yield();
        long again = vmcg_vcpu_start(1, mark, 0, stacks[1], sizeof(stacks[1]));
        while (!vmcg_atomic_load(&restarted))
            vmcg_sched_yield();
        printf("down other=%ld restart=%ld ran=%ld\n", down, again, restarted);
    }
    return 0;
}
