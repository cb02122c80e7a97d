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
        if (r <= 0) {
            vmcg_uart_write(buf, len); /* console_write refused (allow-list): the UART still works */
            return;
        }
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
