/* SPDX-License-Identifier: MIT */
/* Guest test for --dump-vmcs: every GPR, RSP and RFLAGS set to known values, then HLT with IF=0 (the vCPU
 * goes down and the VM ends), so that the dumped guest state is exact. */
#include "vmcall/guest.h"

int main(void)
{
    __asm__ volatile(
        "mov $0x80000, %%rsp\n\tpush $0x2\n\tpopf\n\t"
        "mov $0x1111, %%rax\n\tmov $0x2222, %%rbx\n\tmov $0x3333, %%rcx\n\tmov $0x4444, %%rdx\n\t"
        "mov $0x5555, %%rsi\n\tmov $0x6666, %%rdi\n\tmov $0x7777, %%rbp\n\tmov $8, %%r8\n\t"
        "mov $9, %%r9\n\tmov $10, %%r10\n\tmov $11, %%r11\n\tmov $12, %%r12\n\tmov $13, %%r13\n\t"
        "mov $14, %%r14\n\tmov $-1, %%r15\n\t"
        ".globl vmcs_hlt\nvmcs_hlt:\thlt" ::
            : "memory");
    __builtin_unreachable();
}
