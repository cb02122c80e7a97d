/* SPDX-License-Identifier: MIT */
/* The Linux personality's memory: brk and an mmap area inside the VM's RAM, never a host allocation. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "calls.h"

#define PAGE_UP(x) (((x) + 4095) & ~4095ull)

/* The rights the VMM can hold a page to: none, read, or read and write (execution is not checked). */
static enum vmc_mem_access access_of(uint64_t prot)
{
    return (prot & PROT_WRITE) ? VMC_MEM_RW : (prot & (PROT_READ | PROT_EXEC)) ? VMC_MEM_READ : VMC_MEM_NONE;
}

/* Take [start, end) out of the free ranges: it must lie inside one. */
static bool take(struct vmc_linux *lx, uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < lx->nfree; i++) {
        struct vmc_lx_range *r = &lx->free[i];
        if (start < r->start || end > r->end)
            continue;
        if (start > r->start && end < r->end) { /* split */
            if (lx->nfree == VMC_LX_MAP_MAX)
                return false;
            memmove(r + 2, r + 1, (lx->nfree - i - 1) * sizeof(*r));
            r[1] = (struct vmc_lx_range){ end, r->end };
            r->end = start;
            lx->nfree++;
        } else if (start > r->start) {
            r->end = start;
        } else if (end < r->end) {
            r->start = end;
        } else {
            memmove(r, r + 1, (lx->nfree - i - 1) * sizeof(*r));
            lx->nfree--;
        }
        return true;
    }
    return false;
}

/* Give [start, end) back, merging with its neighbours; false when the range is not a mapping. */
static bool give(struct vmc_linux *lx, uint64_t start, uint64_t end)
{
    uint32_t i = 0;
    while (i < lx->nfree && lx->free[i].start < start)
        i++;
    if ((i > 0 && lx->free[i - 1].end > start) || (i < lx->nfree && lx->free[i].start < end))
        return false; /* part of it is free already */
    bool left = i > 0 && lx->free[i - 1].end == start, right = i < lx->nfree && lx->free[i].start == end;
    if (left && right) {
        lx->free[i - 1].end = lx->free[i].end;
        memmove(&lx->free[i], &lx->free[i + 1], (lx->nfree - i - 1) * sizeof(lx->free[0]));
        lx->nfree--;
    } else if (left) {
        lx->free[i - 1].end = end;
    } else if (right) {
        lx->free[i].start = start;
    } else {
        if (lx->nfree == VMC_LX_MAP_MAX)
            return false;
        memmove(&lx->free[i + 1], &lx->free[i], (lx->nfree - i) * sizeof(lx->free[0]));
        lx->free[i] = (struct vmc_lx_range){ start, end };
        lx->nfree++;
    }
    return true;
}

/* The highest free range of len bytes above the break (mappings grow down from the stack). */
static uint64_t find(struct vmc_linux *lx, uint64_t len)
{
    for (uint32_t i = lx->nfree; i-- > 0;) {
        const struct vmc_lx_range *r = &lx->free[i];
        if (r->end - r->start >= len)
            return r->end - len;
    }
    return 0;
}

/*
 * brk grows from the end of the image into the same free ranges mappings come from (they grow down from
 * the stack, so the two meet only when RAM runs out). Pages given back read zero when taken again.
 */
int64_t vmc_lx_brk(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t want = hc->a.args[0], cur = PAGE_UP(lx->brk), next = PAGE_UP(want);
    if (want < lx->brk_start || want > lx->mmap_top)
        return (int64_t)lx->brk; /* Linux: the break as it is */
    if (next > cur && !take(lx, cur, next))
        return (int64_t)lx->brk;
    if (next > cur)
        vmc_mem_seal(&hc->vcpu->vm->mem, cur, next - cur, VMC_MEM_RW);
    if (next < cur && give(lx, next, cur)) {
        vmc_mem_zero(&hc->vcpu->vm->mem, next, cur - next);
        vmc_mem_seal(&hc->vcpu->vm->mem, next, cur - next, VMC_MEM_NONE);
    }
    lx->brk = want;
    return (int64_t)want;
}

/*
 * mmap: anonymous or private file mappings, placed in the mmap area (or exactly at a MAP_FIXED address
 * that is free there); the pages are RAM the VM already has, zeroed, a file's contents read in. Shared
 * file mappings are refused (ENODEV): nothing writes them back. More than the area holds: ENOMEM.
 */
int64_t vmc_lx_mmap(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_mem *mem = &hc->vcpu->vm->mem;
    uint64_t addr = hc->a.args[0], len = PAGE_UP(hc->a.args[1]), flags = hc->a.args[3];
    uint64_t fd = hc->a.args[4], off = vmc_vcpu_regs(hc->vcpu)->r9; /* the sixth argument */
    if (len == 0 || len < hc->a.args[1] || (off & 4095))
        return -EINVAL;
    uint64_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED)
        return -EINVAL;
    struct vmc_lx_fd *f = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        if (!(f = vmc_lx_fd_get(lx, fd)) || f->kind != LX_FD_HOST)
            return -EBADF;
        if (type == MAP_SHARED)
            return -ENODEV;
    }
    uint64_t at = 0;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if ((addr & 4095) || addr + len < addr)
            return -EINVAL;
        at = addr;
        if (!take(lx, at, at + len))
            return (flags & MAP_FIXED_NOREPLACE) ? -EEXIST : -ENOMEM;
    } else {
        at = find(lx, len);
        if (!at || !take(lx, at, at + len))
            return -ENOMEM;
    }
    vmc_mem_seal(mem, at, len, VMC_MEM_RW);
    vmc_mem_zero(mem, at, len);
    if (!f) /* PROT_NONE reserves (glibc's thread stacks start this way), PROT_READ is read-only */
        vmc_mem_seal(mem, at, len, access_of(hc->a.args[2]));
    if (f) {
        uint8_t *p = vmc_mem_ptr_w(mem, at, len);
        ssize_t n = p ? pread(f->host, p, len, (off_t)off) : -1;
        if (n < 0) {
            int e = p ? errno : ENOMEM;
            give(lx, at, at + len);
            vmc_mem_seal(mem, at, len, VMC_MEM_NONE);
            return -e;
        }
        vmc_mem_seal(mem, at, len, access_of(hc->a.args[2])); /* the contents are in: the rights asked */
    }
    return (int64_t)at;
}

/* Give back what is mapped of [lo, hi): each mapped stretch in one go (the free list is sorted). A new
 * mapping is zeroed when it is made, so nothing is written here. */
static void unmap_range(struct vmc_vcpu *vcpu, uint64_t lo, uint64_t hi)
{
    struct vmc_linux *lx = vcpu->vm->lx;
    while (lo < hi) {
        uint64_t next_free = hi, free_end = lo;
        for (uint32_t i = 0; i < lx->nfree; i++) {
            const struct vmc_lx_range *r = &lx->free[i];
            if (r->end <= lo)
                continue;
            if (r->start <= lo) { /* lo is free: skip to the end of that range */
                free_end = r->end;
                next_free = lo;
            } else if (r->start < next_free) {
                next_free = r->start;
            }
            break;
        }
        if (next_free == lo) {
            lo = free_end;
            continue;
        }
        uint64_t end = next_free < hi ? next_free : hi;
        if (!give(lx, lo, end)) /* the free list is full: leave the rest mapped */
            return;
        vmc_mem_seal(&vcpu->vm->mem, lo, end - lo, VMC_MEM_NONE); /* a touch now faults: SIGSEGV */
        lo = end;
    }
}

/* munmap: the range (or what of it is mapped) can be mapped again; it reads zero when it is. */
int64_t vmc_lx_munmap(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t addr = hc->a.args[0], len = PAGE_UP(hc->a.args[1]);
    if ((addr & 4095) || len == 0 || addr + len < addr)
        return -EINVAL;
    uint64_t floor = PAGE_UP(lx->brk); /* the heap below is brk's */
    uint64_t lo = addr < floor ? floor : addr, hi = addr + len > lx->mmap_top ? lx->mmap_top : addr + len;
    if (lo < hi)
        unmap_range(hc->vcpu, lo, hi);
    return 0;
}

/*
 * mremap: shrinking gives the tail back; growing takes the pages above when they are free, else (with
 * MREMAP_MAYMOVE) the mapping moves: the identity map has no page tables to repoint, so the VMM copies
 * the contents on the host side, which costs what the C library's own copy would.
 */
int64_t vmc_lx_mremap(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_mem *mem = &hc->vcpu->vm->mem;
    uint64_t old = hc->a.args[0], olen = PAGE_UP(hc->a.args[1]), nlen = PAGE_UP(hc->a.args[2]);
    uint64_t flags = hc->a.args[3];
    if ((old & 4095) || nlen == 0 || (flags & ~(uint64_t)MREMAP_MAYMOVE) || old + olen < old ||
        old < PAGE_UP(lx->brk) || old + olen > lx->mmap_top)
        return -EINVAL;
    if (nlen <= olen) {
        if (nlen < olen)
            unmap_range(hc->vcpu, old + nlen, old + olen);
        return (int64_t)old;
    }
    if (old + nlen <= lx->mmap_top && take(lx, old + olen, old + nlen)) {
        vmc_mem_seal(mem, old + olen, nlen - olen, VMC_MEM_RW);
        vmc_mem_zero(mem, old + olen, nlen - olen);
        vmc_mem_seal(mem, old + olen, nlen - olen, vmc_mem_access(mem, old));
        return (int64_t)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    uint64_t at = find(lx, nlen);
    if (!at || !take(lx, at, at + nlen))
        return -ENOMEM;
    vmc_mem_seal(mem, at, nlen, VMC_MEM_RW);
    enum vmc_mem_access was = vmc_mem_access(mem, old);
    uint8_t *src = vmc_mem_ptr(mem, old, olen), *dst = vmc_mem_ptr_w(mem, at, nlen);
    if (!src || !dst) {
        give(lx, at, at + nlen);
        return -EFAULT;
    }
    memcpy(dst, src, olen);
    vmc_mem_zero(mem, at + olen, nlen - olen);
    vmc_mem_seal(mem, at, nlen, was);
    unmap_range(hc->vcpu, old, old + olen);
    return (int64_t)at;
}

/* mprotect: PROT_NONE seals the pages (a touch faults: SIGSEGV), any access opens them again. Read-only
 * and no-exec are accepted but not enforced: every open page is readable, writable and executable
 * (docs/linux.md says why). */
int64_t vmc_lx_mprotect(struct vmc_hcall *hc)
{
    uint64_t addr = hc->a.args[0], len = PAGE_UP(hc->a.args[1]), prot = hc->a.args[2];
    struct vmc_mem *mem = &hc->vcpu->vm->mem;
    if ((addr & 4095) || addr + len < addr || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (addr < (2u << 20) || addr + len > mem->size)
        return -ENOMEM; /* not the program's memory */
    return vmc_mem_seal(mem, addr, len, access_of(prot)) < 0 ? -ENOMEM : 0;
}

int64_t vmc_lx_madvise(struct vmc_hcall *hc)
{
    uint64_t addr = hc->a.args[0], len = PAGE_UP(hc->a.args[1]);
    if (addr & 4095)
        return -EINVAL;
    if (hc->a.args[2] == MADV_DONTNEED && vmc_mem_ptr(&hc->vcpu->vm->mem, addr, len) &&
        addr >= PAGE_UP(vmc_lx(hc)->brk) && addr + len <= vmc_lx(hc)->mmap_top)
        vmc_mem_zero(&hc->vcpu->vm->mem, addr, len); /* Linux: private anonymous pages read zero again */
    return 0;
}
