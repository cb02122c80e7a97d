/* SPDX-License-Identifier: MIT */
/* Guest test, built -DVMCG_ABI_XEN for `vmcall run --abi xen`: arguments in RDI, RSI, RDX, R10, R8. */
#include "vmcall/guest.h"

int main(void)
{
    static const char msg[] = "xen convention: console_write\n";
    long r = vmcg_hypercall2(VMC_HC_CONSOLE_WRITE, (unsigned long)msg, sizeof(msg) - 1);
    struct vmc_multicall_entry mc[1] = { { .op = VMC_HC_VERSION } };
    long m = vmcg_hypercall5(VMC_HC_MULTICALL, (unsigned long)mc, 1, 0, 0, 0);
    printf("result=%ld multicall=%ld/%lld abi=%u\n", r, m, (long long)mc[0].result,
           vmcg_boot_info()->hypercall_abi);
    return 0;
}
