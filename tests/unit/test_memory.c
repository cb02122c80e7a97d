/* SPDX-License-Identifier: MIT */
/* Unit tests: guest-physical bounds checks and guest-virtual page walks on fake guest memory. */
#include <errno.h>
#include <stdlib.h>

#include "../../src/arch/x86_64/layout.h"
#include "../../src/arch/x86_64/mmu.h"
#include "../../src/kvm.h"
#include "../../src/mem.h"
#include "../tap.h"

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull

/* 4-level paging rooted at cr3, supervisor unless acc says otherwise (CR0.WP set). */
static int translate(const struct vmc_mem *mem, uint64_t cr3, uint64_t la, unsigned acc, uint64_t *gpa)
{
    struct vmc_mmu m = { .mode = VMC_PAGING_4LEVEL, .cr3 = cr3, .wp = true };
    return vmc_mmu_translate(mem, &m, la, acc, gpa);
}

static int gva_read(const struct vmc_mem *mem, uint64_t cr3, uint64_t la, unsigned acc, void *buf,
                    uint64_t len)
{
    struct vmc_mmu m = { .mode = VMC_PAGING_4LEVEL, .cr3 = cr3, .wp = true };
    return vmc_mmu_read(mem, &m, la, acc, buf, len);
}

/* 32-bit paging (4-byte entries, 4 MiB pages with PSE) and a copy that needs every page. */
static void test_32bit(struct vmc_mem *mem)
{
    uint32_t *pd = (uint32_t *)(mem->host + 0x20000), *pt = (uint32_t *)(mem->host + 0x21000);
    memset(pd, 0, 8192);
    pd[0] = 0x21000 | P | W | U;
    pd[1] = 0x400000 | P | W | PS; /* a 4 MiB page: needs CR4.PSE */
    pt[5] = 0x6000 | P | U;
    struct vmc_mmu m = { .mode = VMC_PAGING_32, .cr3 = 0x20000, .wp = true };
    uint64_t gpa;
    is_int(vmc_mmu_translate(mem, &m, 0x5123, VMC_ACC_USER, &gpa), 0, "32-bit paging: a 4 KiB page");
    is_u64(gpa, 0x6123, "32-bit paging: frame plus offset");
    is_int(vmc_mmu_translate(mem, &m, 0x5123, VMC_ACC_USER | VMC_ACC_WRITE, &gpa), -EFAULT,
           "32-bit paging: user write to a read-only page faults");
    is_int(vmc_mmu_translate(mem, &m, 0x400010, 0, &gpa), -EFAULT,
           "32-bit paging: PS ignored without CR4.PSE");
    m.pse = true;
    is_int(vmc_mmu_translate(mem, &m, 0x400010, 0, &gpa), 0, "32-bit paging with PSE: a 4 MiB page");
    is_u64(gpa, 0x400010, "32-bit paging: 22 bits of offset");
    is_int(vmc_mmu_translate(mem, &m, 0x100000000ull, 0, &gpa), -EFAULT,
           "32-bit paging: no address above 4 GiB");
    m.wp = false;
    is_int(vmc_mmu_translate(mem, &m, 0x5123, VMC_ACC_WRITE, &gpa), 0,
           "CR0.WP clear: a supervisor write to a read-only page is allowed");
    uint8_t b[2];
    is_int(vmc_mmu_read(mem, &m, 0x5fff, 0, b, 2), -EFAULT, "a copy that runs into an unmapped page faults");
}

/* PAE: a 32-byte PDPT of 4 entries (no rights bits), then PD and PT with 8-byte entries. */
static void test_pae(struct vmc_mem *mem)
{
    uint64_t *pdpt = (uint64_t *)(mem->host + 0x22020), *pd = (uint64_t *)(mem->host + 0x23000);
    uint64_t *pt = (uint64_t *)(mem->host + 0x24000);
    memset(pd, 0, 4096);
    pdpt[0] = pdpt[1] = 0;
    pdpt[1] = 0x23000 | P;
    pd[0] = 0x24000 | P | W | U;
    pd[1] = 0x600000 | P | PS;
    pt[2] = 0x7000 | P | W;
    struct vmc_mmu m = { .mode = VMC_PAGING_PAE, .cr3 = 0x22020, .wp = true };
    uint64_t gpa;
    is_int(vmc_mmu_translate(mem, &m, 0x40002abc, 0, &gpa), 0, "PAE: PDPTE 1, PD 0, PT 2");
    is_u64(gpa, 0x7abc, "PAE: frame plus offset");
    is_int(vmc_mmu_translate(mem, &m, 0x40002abc, VMC_ACC_USER, &gpa), -EFAULT, "PAE: supervisor PTE");
    is_int(vmc_mmu_translate(mem, &m, 0x40212345, 0, &gpa), 0, "PAE: a 2 MiB page");
    is_u64(gpa, 0x612345, "PAE: 21 bits of offset");
    is_int(vmc_mmu_translate(mem, &m, 0x2abc, 0, &gpa), -EFAULT, "PAE: PDPTE 0 not present");
}

/* The hot-add window: extents merge into runs, overlaps and the limit are refused. */
/* The Linux personality's 4 KiB user page tables, walked the way the CPU (and the VMM) walks them. */
static void test_user_pt(void)
{
    struct vmc_mem mem;
    uint64_t size = 8 << 20, gpa;
    is_int(vmc_mem_init(&mem, size, size, 0, 0), 0, "8 MiB of RAM");
    is_int(vmc_x86_setup_memory(&mem, true, 1), 0, "the boot page tables");
    uint64_t pt = size - vmc_x86_user_pt_bytes(size);
    is_u64(vmc_x86_user_pt_bytes(size), 16384, "one 8-byte entry per page of RAM");
    vmc_x86_user_pt_install(&mem, pt);
    struct vmc_mmu m = { .mode = VMC_PAGING_4LEVEL, .cr3 = VMC_LAYOUT_PML4, .wp = true, .nxe = true };
    const unsigned user = VMC_ACC_USER, w = VMC_ACC_USER | VMC_ACC_WRITE, x = VMC_ACC_USER | VMC_ACC_FETCH;
    is_int(vmc_mmu_translate(&mem, &m, 0x300000, user, &gpa), -EFAULT, "every page starts not present");
    ok(!vmc_x86_user_pt_set(&mem, pt, true, 0x300000, 0x2000, VMC_X86_R | VMC_X86_W | VMC_X86_X), "RWX");
    ok(vmc_mmu_translate(&mem, &m, 0x301abc, w, &gpa) == 0 && gpa == 0x301abc, "identity, user-writable");
    is_int(vmc_mmu_translate(&mem, &m, 0x301000, x, &gpa), 0, "and executable");
    is_int(vmc_mmu_translate(&mem, &m, 0x302000, user, &gpa), -EFAULT, "exactly the range");
    ok(vmc_x86_user_pt_set(&mem, pt, true, 0x300000, 0x1000, VMC_X86_R), "RWX -> R: execute lost, said");
    is_int(vmc_mmu_translate(&mem, &m, 0x300000, user, &gpa), 0, "R: read");
    is_int(vmc_mmu_translate(&mem, &m, 0x300000, w, &gpa), -EFAULT, "R: no write");
    is_int(vmc_mmu_translate(&mem, &m, 0x300000, x, &gpa), -EFAULT, "R: no execute (NX)");
    is_int(vmc_x86_user_pt_get(&mem, pt, 0x300000), VMC_X86_R, "read back: R");
    is_int(vmc_x86_user_pt_get(&mem, pt, 0x301000), VMC_X86_R | VMC_X86_W | VMC_X86_X, "read back: RWX");
    ok(!vmc_x86_user_pt_set(&mem, pt, true, 0x300000, 0x1000, VMC_X86_R | VMC_X86_W),
       "R -> RW: nothing lost");
    ok(!vmc_x86_user_pt_set(&mem, pt, true, 0x301000, 0x1000, 0), "RWX -> none: the host's mapping says it");
    is_int(vmc_mmu_translate(&mem, &m, 0x301000, user, &gpa), -EFAULT, "none: not present");
    is_int(vmc_x86_user_pt_get(&mem, pt, 0x301000), 0, "read back: none");
    ok(!vmc_x86_user_pt_set(&mem, pt, false, 0x400000, 0x1000, VMC_X86_R | VMC_X86_X), "without NX");
    ok(!vmc_x86_user_pt_set(&mem, pt, false, 0x400000, 0x1000, VMC_X86_R), "nothing can lose execute");
    is_int(vmc_mmu_translate(&mem, &m, 0x400000, x, &gpa), 0, "every present page executes");
    is_int(vmc_mmu_translate(&mem, &m, pt, user, &gpa), -EFAULT, "the tables are out of the program's reach");
    uint64_t e = vmc_mem_rights_epoch(&mem);
    ok(vmc_mem_rights_settled(&mem, e), "rights settled");
    is_int(vmc_mem_seal(&mem, 0x300000, 0x1000, VMC_MEM_READ), 0, "a seal");
    uint8_t byte = 1;
    ok(vmc_mem_ptr(&mem, 0x300000, 1) != NULL, "a read-only page can be read by the VMM");
    ok(vmc_mem_ptr_w(&mem, 0x300000, 1) == NULL, "but not written: no host pointer for a write");
    is_int(vmc_mem_write(&mem, 0x2ffff0, &byte, 0x20), -EFAULT,
           "a write across it is -EFAULT (never a SIGSEGV of the VMM's own)");
    ok(!vmc_mem_rights_settled(&mem, e), "changes the epoch: a KVM_RUN's EFAULT across it is tried again");
    e = vmc_mem_rights_epoch(&mem);
    is_int(vmc_mem_flush(&mem, 0x300000, 0x1000), 0, "a flush");
    ok(!vmc_mem_rights_settled(&mem, e), "does too");
    is_int(vmc_mem_access(&mem, 0x300000), VMC_MEM_READ, "and leaves the rights as they were");
    vmc_mem_free(&mem);
}

static void test_hotadd(void)
{
    struct vmc_kvm *kvm;
    struct vmc_mem mem;
    vmc_kvm_open_fake(&kvm);
    uint64_t base = 0x100000000ull;
    is_int(vmc_mem_init(&mem, 2 << 20, (2 << 20) + (5 << 12), base, 1 << 30), 0,
           "RAM with a 5-page allowance");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x2000, 4096), 0, "populate frame 2");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x4000, 4096), 0, "populate frame 4");
    is_int(mem.nruns, 2, "two runs");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x3000, 4096), 0, "populate frame 3 between them");
    is_int(mem.nruns, 1, "three adjacent frames are one run (one memslot)");
    is_u64(mem.runs[0].size, 0x3000, "of three pages");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x3000, 4096), -EEXIST, "populating RAM again: -EEXIST");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x1000, 0x2000), -EEXIST, "an extent overlapping a run");
    is_int(vmc_mem_populate(&mem, kvm, -1, base - 4096, 4096), -EINVAL, "below the window: -EINVAL");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x10000, 0x3000), -ENOMEM, "past the limit: -ENOMEM");
    is_int(vmc_mem_populate(&mem, kvm, -1, base + 0x10000, 0x2000), 0, "exactly up to the limit");
    is_u64(mem.populated_pages, 512 + 5, "every populated page counted");
    uint32_t v = 0x12345678, r = 0;
    is_int(vmc_mem_write(&mem, base + 0x3ffe, &v, 4), 0, "a write across two merged extents");
    is_int(vmc_mem_read(&mem, base + 0x3ffe, &r, 4), 0, "reads back");
    is_u64(r, v, "the same bytes");
    is_int(vmc_mem_read(&mem, base + 0x4ffe, &r, 4), -EFAULT, "a read off the end of a run");
    /* Many small adjacent extents: one run, the whole limit reachable 4 KiB at a time. */
    struct vmc_mem big;
    vmc_mem_init(&big, 2 << 20, (2 << 20) + (4 << 20), base, 1 << 30);
    int got = 0;
    while (vmc_mem_populate(&big, kvm, -1, base + (uint64_t)got * 4096, 4096) == 0)
        got++;
    is_int(got, 1024, "1024 adjacent 4 KiB extents: the whole 4 MiB limit");
    is_int(big.nruns, 1, "in one run (one memslot)");
    vmc_mem_free(&big);
    /* Every other page: separate runs, up to the documented limit, then -ENOSPC; merging stays allowed. */
    vmc_mem_init(&big, 2 << 20, (2 << 20) + (64 << 20), base, 1 << 30);
    uint32_t k = 0;
    while (vmc_mem_populate(&big, kvm, -1, base + (uint64_t)k * 0x2000, 4096) == 0)
        k++;
    is_int(k, VMC_HOTADD_RUNS_MAX, "separate runs up to VMC_HOTADD_RUNS_MAX");
    is_int(vmc_mem_populate(&big, kvm, -1, base + (uint64_t)k * 0x2000, 4096), -ENOSPC, "then -ENOSPC");
    is_int(vmc_mem_populate(&big, kvm, -1, base + 0x1000, 4096), 0, "a page that joins two runs still fits");
    is_int(big.nruns, VMC_HOTADD_RUNS_MAX - 1, "and merges them");
    vmc_mem_free(&big);
    vmc_mem_free(&mem);
    vmc_kvm_close(kvm);
}

int main(void)
{
    struct vmc_mem mem;
    vmc_mem_init(&mem, 8 << 20, 8 << 20, 0, 0);

    ok(vmc_mem_ptr(&mem, 0, mem.size) == mem.host, "whole RAM is addressable");
    ok(vmc_mem_ptr(&mem, mem.size - 1, 1) != NULL, "last byte");
    ok(vmc_mem_ptr(&mem, mem.size, 1) == NULL, "one past the end");
    ok(vmc_mem_ptr(&mem, mem.size - 4, 8) == NULL, "crossing the end");
    ok(vmc_mem_ptr(&mem, mem.size - 1, 2) == NULL, "exactly one byte over the end");
    ok(vmc_mem_ptr(&mem, 0, mem.size + 1) == NULL, "all of RAM and one byte more");
    ok(vmc_mem_ptr(&mem, mem.size - 4096, 4096) != NULL, "the last page exactly");
    ok(vmc_mem_ptr(&mem, 16, UINT64_MAX) == NULL, "gpa + len overflow");
    ok(vmc_mem_ptr(&mem, UINT64_MAX, 2) == NULL, "gpa near 2^64");
    uint64_t v = 0x1122334455667788ull, r = 0;
    is_int(vmc_mem_write(&mem, 0x1000, &v, 8), 0, "write inside RAM");
    is_int(vmc_mem_read(&mem, 0x1000, &r, 8), 0, "read inside RAM");
    is_u64(r, v, "round trip");
    is_int(vmc_mem_read(&mem, mem.size - 2, &r, 8), -EFAULT, "read crossing the end is -EFAULT");
    is_int(vmc_mem_read(&mem, mem.size - 7, &r, 8), -EFAULT, "read exactly one byte over is -EFAULT");
    is_int(vmc_mem_read(&mem, mem.size - 8, &r, 8), 0, "the last 8 bytes read");
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
    is_int(translate(&mem, 0x10000, 0x1234, 0, &gpa), 0, "4 KiB page translates");
    is_u64(gpa, 0x5234, "to the mapped frame plus offset");
    is_int(translate(&mem, 0x10000, 0x212345, VMC_ACC_WRITE | VMC_ACC_USER, &gpa), 0, "2 MiB page");
    is_u64(gpa, 0x212345, "2 MiB page keeps 21 bits of offset");
    is_int(translate(&mem, 0x10000, 0x0, 0, &gpa), -EFAULT, "not-present PTE faults");
    is_int(translate(&mem, 0x10000, 0x2000, VMC_ACC_WRITE, &gpa), -EFAULT, "write to read-only faults");
    is_int(translate(&mem, 0x10000, 0x2000, VMC_ACC_USER, &gpa), 0, "user read of user page");
    is_int(translate(&mem, 0x10000, 0x3000, VMC_ACC_USER, &gpa), -EFAULT, "user access to supervisor faults");
    is_int(translate(&mem, 0x10000, 0x3000, VMC_ACC_WRITE, &gpa), 0, "supervisor write to supervisor page");
    struct vmc_mmu nx = { .mode = VMC_PAGING_4LEVEL, .cr3 = 0x10000, .wp = true, .nxe = true };
    pt[4] = 0x8000 | P | W | (1ull << 63);
    is_int(vmc_mmu_translate(&mem, &nx, 0x4000, 0, &gpa), 0, "an NX page can be read");
    is_int(vmc_mmu_translate(&mem, &nx, 0x4000, VMC_ACC_FETCH, &gpa), -EFAULT,
           "but not fetched with EFER.NXE");
    is_int(translate(&mem, 0x10000, 0x400000, VMC_ACC_WRITE, &gpa), -EFAULT, "2 MiB read-only page");
    is_int(translate(&mem, 0x10000, 0x800000000000ull, 0, &gpa), -EFAULT, "non-canonical address");
    is_int(translate(&mem, 0x10000, 0xffff800000000000ull, 0, &gpa), -EFAULT, "canonical but unmapped");
    pml4[1] = (1ull << 45) | P; /* table pointer outside RAM */
    is_int(translate(&mem, 0x10000, 1ull << 39, 0, &gpa), -EFAULT, "page table outside RAM faults");
    is_int(translate(&mem, 1ull << 45, 0x1000, 0, &gpa), -EFAULT, "CR3 outside RAM faults");

    memcpy(mem.host + 0x5ffc, "abcd", 4);
    memcpy(mem.host + 0x7000, "efgh", 4);
    char buf[9] = { 0 };
    is_int(gva_read(&mem, 0x10000, 0x1ffc, 0, buf, 8), 0, "read crossing into the next page");
    is_str(buf, "abcdefgh", "each page translated separately (0x5ffc then 0x7000)");
    is_int(gva_read(&mem, 0x10000, 0x3ffc, VMC_ACC_USER, buf, 8), -EFAULT,
           "crossing into a forbidden page faults");
    is_int(gva_read(&mem, 0x10000, UINT64_MAX - 2, 0, buf, 8), -EFAULT, "wrapping range faults");
    is_int(gva_read(&mem, 0x10000, 0x1000, 0, buf, 0), 0, "empty read succeeds");
    test_32bit(&mem);
    test_pae(&mem);
    vmc_mem_free(&mem);
    test_hotadd();
    test_user_pt();
    return tap_done();
}
