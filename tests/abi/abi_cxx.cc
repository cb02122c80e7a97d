// SPDX-License-Identifier: MIT
// abi.h compiled as C++11, linked with the C99 object: both must agree on the layout.
#include "vmcall/abi.h"

#include <cstdio>
#include <cstring>

extern "C" int abi_c99_boot_info_size(void);

int main()
{
    int n = 0, bad = 0;
    auto check = [&](bool c, const char *what) {
        std::printf("%s %d - %s\n", c ? "ok" : "not ok", ++n, what);
        bad += !c;
    };
    check(abi_c99_boot_info_size() == (int)sizeof(vmc_boot_info), "C99 and C++ agree on vmc_boot_info");
    check(sizeof(vmc_fault_frame) == 56, "fault frame is seven quadwords");
    char sig[13] = { 0 };
    uint32_t regs[3] = { VMC_CPUID_SIG_EBX, VMC_CPUID_SIG_ECX, VMC_CPUID_SIG_EDX };
    std::memcpy(sig, regs, 12);
    check(std::strcmp(sig, "vmcallvmcall") == 0, "CPUID signature spells vmcallvmcall");
    check(VMC_PORT_EXIT % 4 == 0, "exit port is 4-aligned (one bitmap nibble for a 32-bit out)");
    check(VMC_PORT_HYPERCALL < 0x100 && VMC_PORT_FAULT < 0x100, "VMM ports reachable with out imm8");
    check(VMC_LAYOUT_STACK_TOP <= VMC_LAYOUT_LOAD_MIN && VMC_LAYOUT_STACK_TOP % 16 == 0,
          "stack below images");
    std::printf("1..%d\n", n);
    return bad ? 1 : 0;
}
