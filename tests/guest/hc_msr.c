/* SPDX-License-Identifier: MIT */
/* Guest test: Xen-style discovery. CPUID leaves, then WRMSR makes the VMM fill a page of our choosing.
 * With an argument (misaligned, outside, vmm) the WRMSR is invalid and must raise #GP. */
#include "vmcall/guest.h"

static char page[4096] __attribute__((aligned(4096)));

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

int main(int argc, char **argv)
{
    uint32_t r[4];
    char sig[13] = { 0 };
    cpuid(VMC_CPUID_BASE, r);
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    printf("signature=%s max=0x%x\n", sig, r[0]);
    cpuid(VMC_CPUID_VERSION, r);
    printf("abi=%u\n", r[0]);
    cpuid(VMC_CPUID_HYPERCALL, r);
    uint32_t msr = r[1];
    printf("pages=%u msr=0x%x\n", r[0], msr);
    cpuid(1, r);
    printf("hypervisor bit=%u vmx=%u\n", r[2] >> 31, (r[2] >> 5) & 1);
    if (argc > 1) {
        uint64_t bad = !strcmp(argv[1], "misaligned") ? (uint64_t)(uintptr_t)page + 8
                       : !strcmp(argv[1], "outside")  ? vmcg_boot_info()->ram_size
                                                      : VMC_LAYOUT_GDT;
        wrmsr(msr, bad);
        printf("not reached\n");
        return 1;
    }
    printf("page before=%02x\n", (unsigned char)page[32]);
    wrmsr(msr, (uint64_t)(uintptr_t)page);
    printf("page after=%02x%02x rdmsr matches=%d\n", (unsigned char)page[32], (unsigned char)page[37],
           rdmsr(msr) == (uint64_t)(uintptr_t)page);
    vmcg_hypercall_page = page; /* from now on every call goes through our own page */
    printf("version through the new page=%ld\n", vmcg_version(0));
    return 0;
}
