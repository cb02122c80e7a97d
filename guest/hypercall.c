/* SPDX-License-Identifier: MIT */
/* Guest wrappers for the standard hypercalls; all go through the hypercall page. */
#include "vmcall/guest.h"

#define H(p) ((unsigned long)(uintptr_t)(p))

long vmcg_version(struct vmc_version *out)
{
    return vmcg_hypercall_any(VMC_HC_VERSION, H(out), 0, 0);
}

void vmcg_console_write(const void *buf, size_t len)
{
    while (len) {
        size_t n = len < VMC_CONSOLE_IO_MAX ? len : VMC_CONSOLE_IO_MAX;
        long r = vmcg_hypercall_any(VMC_HC_CONSOLE_WRITE, H(buf), n, 0);
        if (r < 0) {
            vmcg_uart_write(buf, len); /* console_write refused (allow-list): the UART still works */
            return;
        }
        /* 0: the console's queue was full and the VMM let this vCPU wait for room; write the rest. */
        buf = (const char *)buf + r;
        len -= (size_t)r;
    }
}

long vmcg_console_read(void *buf, size_t len)
{
    return vmcg_hypercall_any(VMC_HC_CONSOLE_READ, H(buf), len, 0);
}

long vmcg_sched_yield(void)
{
    return vmcg_hypercall_any(VMC_HC_SCHED_OP, VMC_SCHEDOP_YIELD, 0, 0);
}

long vmcg_sched_block(uint64_t timeout_ns)
{
    return vmcg_hypercall_any(VMC_HC_SCHED_OP, VMC_SCHEDOP_BLOCK, (unsigned long)timeout_ns, 0);
}

long vmcg_shutdown(uint32_t reason, uint32_t status)
{
    struct vmc_sched_shutdown sd = { reason, status };
    return vmcg_hypercall_any(VMC_HC_SCHED_OP, VMC_SCHEDOP_SHUTDOWN, H(&sd), 0);
}

long vmcg_time(struct vmc_time *out)
{
    return vmcg_hypercall_any(VMC_HC_TIME, H(out), 0, 0);
}

uint64_t vmcg_monotonic_ns(void)
{
    struct vmc_time t = { 0, 0 };
    vmcg_time(&t);
    return t.monotonic_ns;
}

long vmcg_random(void *buf, size_t len)
{
    return vmcg_hypercall_any(VMC_HC_RANDOM, H(buf), len, 0);
}

long vmcg_memory_op(unsigned cmd, void *arg)
{
    return vmcg_hypercall_any(VMC_HC_MEMORY_OP, cmd, H(arg), 0);
}

long vmcg_multicall(void *entries, unsigned long nr)
{
    return vmcg_hypercall_any(VMC_HC_MULTICALL, H(entries), nr, 0);
}

long vmcg_block_info(struct vmc_block_info *out)
{
    return vmcg_hypercall_any(VMC_HC_BLOCK_OP, VMC_BLOCKOP_INFO, H(out), 0);
}

long vmcg_block_read(uint64_t sector, uint64_t count, void *buf)
{
    struct vmc_block_io io = { sector, count, H(buf) };
    return vmcg_hypercall_any(VMC_HC_BLOCK_OP, VMC_BLOCKOP_READ, H(&io), 0);
}

long vmcg_block_write(uint64_t sector, uint64_t count, const void *buf)
{
    struct vmc_block_io io = { sector, count, H(buf) };
    return vmcg_hypercall_any(VMC_HC_BLOCK_OP, VMC_BLOCKOP_WRITE, H(&io), 0);
}

long vmcg_block_flush(void)
{
    return vmcg_hypercall_any(VMC_HC_BLOCK_OP, VMC_BLOCKOP_FLUSH, 0, 0);
}

unsigned vmcg_vcpu_count(void)
{
    return vmcg_boot_info()->vcpu_count;
}

unsigned vmcg_cpu_id(void)
{
    return (unsigned)vmcg_hypercall_any(VMC_HC_VCPU_OP, VMC_VCPUOP_SELF, 0, 0);
}

long vmcg_vcpu_down(unsigned vcpu)
{
    return vmcg_hypercall_any(VMC_HC_VCPU_OP, VMC_VCPUOP_DOWN, vcpu, 0);
}

long vmcg_vcpu_is_up(unsigned vcpu)
{
    return vmcg_hypercall_any(VMC_HC_VCPU_OP, VMC_VCPUOP_IS_UP, vcpu, 0);
}

long vmcg_send_ipi(unsigned vcpu, unsigned vector)
{
    return vmcg_hypercall_any(VMC_HC_SEND_IPI, vcpu, vector, 0);
}

long vmcg_set_timer(uint64_t deadline_ns, unsigned vector)
{
#if defined(__x86_64__)
    return vmcg_hypercall_any(VMC_HC_SET_TIMER, deadline_ns, vector, 0);
#else /* compat: the 64-bit deadline travels in two registers */
    return vmcg_hypercall_any(VMC_HC_SET_TIMER, (uint32_t)deadline_ns, (uint32_t)(deadline_ns >> 32), vector);
#endif
}

void vmcg_spin_lock(vmcg_spinlock_t *l)
{
    unsigned spins = 0;
    while (!vmcg_spin_trylock(l)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
            __asm__ volatile("pause");
            if (++spins % 4096 == 0)
                vmcg_sched_yield(); /* the holder's vCPU may be preempted on the host */
        }
    }
}

#if defined(__x86_64__)
struct ap_start {
    void (*fn)(void *);
    void *arg;
};

__attribute__((noreturn, used)) static void ap_entry(struct ap_start *s)
{
    s->fn(s->arg);
    vmcg_vcpu_down(vmcg_cpu_id());
    for (;;)
        ;
}

long vmcg_vcpu_start(unsigned vcpu, void (*fn)(void *), void *arg, void *stack, size_t stack_size)
{
    /* fn and arg go on the new stack; RSP is set as if ap_entry had been called ((RSP + 8) % 16 == 0). */
    uintptr_t top = ((uintptr_t)stack + stack_size) & ~(uintptr_t)15;
    struct ap_start *s = (struct ap_start *)(top - 16);
    s->fn = fn;
    s->arg = arg;
    struct vmc_vcpu_up up = { (uintptr_t)ap_entry, top - 24, (uintptr_t)s };
    return vmcg_hypercall_any(VMC_HC_VCPU_OP, VMC_VCPUOP_UP, vcpu, (unsigned long)&up);
}
#endif
