/* SPDX-License-Identifier: MIT */
/* Unit tests: guest-physical bounds checks and guest-virtual page walks on fake guest memory. */
#include <errno.h>
#include <stdlib.h>

#include "../../src/internal.h"
#include "../tap.h"

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull

int main(void)
{
    struct vmc_mem mem = { .size = 8 << 20 };
    mem.host = aligned_alloc(4096, mem.size);
    memset(mem.host, 0, mem.size);

    ok(vmc_mem_ptr(&mem, 0, mem.size) == mem.host, "whole RAM is addressable");
    ok(vmc_mem_ptr(&mem, mem.size - 1, 1) != NULL, "last byte");
    ok(vmc_mem_ptr(&mem, mem.size, 1) == NULL, "one past the end");
    ok(vmc_mem_ptr(&mem, mem.size - 4, 8) == NULL, "crossing the end");
    ok(vmc_mem_ptr(&mem, 16, UINT64_MAX) == NULL, "gpa + len overflow");
    ok(vmc_mem_ptr(&mem, UINT64_MAX, 2) == NULL, "gpa near 2^64");
    uint64_t v = 0x1122334455667788ull, r = 0;
    is_int(vmc_mem_write(&mem, 0x1000, &v, 8), 0, "write inside RAM");
    is_int(vmc_mem_read(&mem, 0x1000, &r, 8), 0, "read inside RAM");
    is_u64(r, v, "round trip");
    is_int(vmc_mem_read(&mem, mem.size - 2, &r, 8), -EFAULT, "read crossing the end is -EFAULT");
    is_int(vmc_mem_write(&mem, 1ull << 40, &v, 8), -EFAULT, "write outside RAM is -EFAULT");

    memset(mem.host + 0x3000, 0xaa, 3 * 4096);
    is_int(vmc_mem_zero(&mem, 0x3010, 2 * 4096), 0, "zero a range with partial pages");
    ok(mem.host[0x300f] == 0xaa && mem.host[0x3010] == 0 && mem.host[0x4800] == 0 && mem.host[0x500f] == 0 &&
           mem.host[0x5010] == 0xaa,
       "exactly the range is zeroed");
    is_int(vmc_mem_zero(&mem, mem.size - 4, 8), -EFAULT, "zeroing past the end is -EFAULT");

    /* Page tables at 0x10000: PML4 -> PDPT -> PD; PD[0] -> PT (4K pages), PD[1] = 2 MiB page. */
    uint64_t *pml4 = (uint64_t *)(mem.host + 0x10000), *pdpt = (uint64_t *)(mem.host + 0x11000);
    uint64_t *pd = (uint64_t *)(mem.host + 0x12000), *pt = (uint64_t *)(mem.host + 0x13000);
    pml4[0] = 0x11000 | P | W | U;
    pdpt[0] = 0x12000 | P | W | U;
    pd[0] = 0x13000 | P | W | U;
    pd[1] = 0x200000 | P | W | U | PS;
    pd[2] = 0x400000 | P | PS; /* supervisor, read-only */
    pt[1] = 0x5000 | P | W | U;
    pt[2] = 0x7000 | P | U; /* read-only */
    pt[3] = 0x6000 | P | W; /* supervisor */
    uint64_t gpa;
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x1234, 0, &gpa), 0, "4 KiB page translates");
    is_u64(gpa, 0x5234, "to the mapped frame plus offset");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x212345, VMC_ACC_WRITE | VMC_ACC_USER, &gpa), 0, "2 MiB page");
    is_u64(gpa, 0x212345, "2 MiB page keeps 21 bits of offset");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x0, 0, &gpa), -EFAULT, "not-present PTE faults");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x2000, VMC_ACC_WRITE, &gpa), -EFAULT, "write to read-only faults");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x2000, VMC_ACC_USER, &gpa), 0, "user read of user page");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x3000, VMC_ACC_USER, &gpa), -EFAULT,
           "user access to supervisor faults");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x3000, VMC_ACC_WRITE, &gpa), 0,
           "supervisor write to supervisor page");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x400000, VMC_ACC_WRITE, &gpa), -EFAULT, "2 MiB read-only page");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0x800000000000ull, 0, &gpa), -EFAULT, "non-canonical address");
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 0xffff800000000000ull, 0, &gpa), -EFAULT, "canonical but unmapped");
    pml4[1] = (1ull << 45) | P; /* table pointer outside RAM */
    is_int(vmc_gva_to_gpa(&mem, 0x10000, 1ull << 39, 0, &gpa), -EFAULT, "page table outside RAM faults");
    is_int(vmc_gva_to_gpa(&mem, 1ull << 45, 0x1000, 0, &gpa), -EFAULT, "CR3 outside RAM faults");

    memcpy(mem.host + 0x5ffc, "abcd", 4);
    memcpy(mem.host + 0x7000, "efgh", 4);
    char buf[9] = { 0 };
    is_int(vmc_gva_read(&mem, 0x10000, 0x1ffc, 0, buf, 8), 0, "read crossing into the next page");
    is_str(buf, "abcdefgh", "each page translated separately (0x5ffc then 0x7000)");
    is_int(vmc_gva_read(&mem, 0x10000, 0x3ffc, VMC_ACC_USER, buf, 8), -EFAULT,
           "crossing into a forbidden page faults");
    is_int(vmc_gva_read(&mem, 0x10000, UINT64_MAX - 2, 0, buf, 8), -EFAULT, "wrapping range faults");
    is_int(vmc_gva_read(&mem, 0x10000, 0x1000, 0, buf, 0), 0, "empty read succeeds");
    free(mem.host);
    return tap_done();
}
