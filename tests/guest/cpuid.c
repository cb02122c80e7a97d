/* SPDX-License-Identifier: MIT */
/* Guest test for the CPUID policy (kernel mode: CPUID at CPL0 is trapped on every host): VMX and SVM
 * hidden, the hypervisor bit and vmcall's leaves present, and the leaves named by the arguments
 * ("0x40000100" or "7.0" for a subleaf) printed as the guest sees them. */
#include "vmcall/guest.h"

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

int main(int argc, char **argv)
{
    uint32_t r[4];
    cpuid(0x40000000, 0, r);
    char sig[13];
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    uint32_t max = r[0];
    cpuid(1, 0, r);
    int vmx = (r[2] >> 5) & 1, hv = (r[2] >> 31) & 1;
    cpuid(0x80000001, 0, r);
    printf("signature=%s max=0x%x vmx=%d svm=%d hypervisor=%d\n", sig, max, vmx, (int)(r[2] >> 2) & 1, hv);
    for (int i = 1; i < argc; i++) {
        char *end;
        uint32_t leaf = (uint32_t)strtoul(argv[i], &end, 0), sub = 0;
        if (*end == '.')
            sub = (uint32_t)strtoul(end + 1, 0, 0);
        cpuid(leaf, sub, r);
        printf("%s: %08x %08x %08x %08x\n", argv[i], r[0], r[1], r[2], r[3]);
    }
    return 0;
}
