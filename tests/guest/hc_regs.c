/* SPDX-License-Identifier: MIT */
/* Guest test: a hypercall changes RAX only. Every other general register keeps its value. */
#include "vmcall/guest.h"

uint64_t hc_regs_check(void *stub); /* hc_regs_asm.S: bitmask of registers that changed */

int main(void)
{
    uint64_t bad = hc_regs_check(VMCG_STUB(VMC_HC_VERSION));
    printf("changed registers mask=0x%llx\n", (unsigned long long)bad);
    return bad != 0;
}
