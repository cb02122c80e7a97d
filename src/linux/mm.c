/* SPDX-License-Identifier: MIT */
/* The Linux personality's memory: brk and an mmap area inside the VM's RAM, never a host allocation. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../arch/x86_64/layout.h"
#include "calls.h"

#define PAGE_UP(x) (((x) + 4095) & ~4095ull)

_Static_assert(PROT_READ == VMC_X86_R && PROT_WRITE == VMC_X86_W && PROT_EXEC == VMC_X86_X,
               "the page tables take PROT_* rights");

/*
 * A page's rights live twice: in the guest's page tables, which the CPU checks (execute included) and
 * which make a fault a guest #PF naming its address (SIGSEGV), and in the host's mapping of guest RAM
 * (vmc_mem_seal: none, read, read-write), which every VMM path honours. Changing the host mapping also
 * makes KVM drop what it cached of the old tables (its MMU notifier: shadow entries, TLBs); a page that
 * only lost execute changes nothing on the host, so that is forced (vmc_mem_flush). A vCPU that meets a
 * page between the two runs again (vmc_mem_rights_settled).
 */
int vmc_lx_protect(struct vmc_vm *vm, uint64_t start, uint64_t len, uint64_t prot)
{
    struct vmc_linux *lx = vm->lx;
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    enum vmc_mem_access access = (prot & PROT_WRITE)                ? VMC_MEM_RW
                                 : (prot & (PROT_READ | PROT_EXEC)) ? VMC_MEM_READ
                                                                    : VMC_MEM_NONE;
    bool lost_exec = vmc_x86_user_pt_set(&vm->mem, lx->pt_base, lx->nx, start, len, (unsigned)prot);
    int rc = vmc_mem_seal(&vm->mem, start, len, access);
    if (rc == 0 && lost_exec)
        rc = vmc_mem_flush(&vm->mem, start, len);
    return rc;
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
        vmc_lx_protect(hc->vcpu->vm, cur, next - cur, PROT_READ | PROT_WRITE);
    if (next < cur && give(lx, next, cur)) {
        vmc_mem_zero(&hc->vcpu->vm->mem, next, cur - next);
        vmc_lx_protect(hc->vcpu->vm, next, cur - next, PROT_NONE);
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
    vmc_mem_seal(mem, at, len, VMC_MEM_RW); /* for the VMM's writes: the guest's tables say not yet */
    vmc_mem_zero(mem, at, len);
    if (!f) /* PROT_NONE reserves (glibc's thread stacks start this way), PROT_READ is read-only */
        vmc_lx_protect(hc->vcpu->vm, at, len, hc->a.args[2]);
    if (f) {
        uint8_t *p = vmc_mem_ptr_w(mem, at, len);
        ssize_t n = p ? pread(f->host, p, len, (off_t)off) : -1;
        if (n < 0) {
            int e = p ? errno : ENOMEM;
            give(lx, at, at + len);
            vmc_mem_seal(mem, at, len, VMC_MEM_NONE);
            return -e;
        }
        vmc_lx_protect(hc->vcpu->vm, at, len, hc->a.args[2]); /* the contents are in: the rights asked */
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
        vmc_lx_protect(vcpu->vm, lo, end - lo, PROT_NONE); /* a touch now faults: SIGSEGV */
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
 * MREMAP_MAYMOVE) the mapping moves: guest-virtual is guest-physical here, so the VMM copies the
 * contents on the host side, which costs what the C library's own copy would. The rights are the first
 * page's.
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
    unsigned prot = vmc_x86_user_pt_get(mem, lx->pt_base, old);
    if (old + nlen <= lx->mmap_top && take(lx, old + olen, old + nlen)) {
        vmc_mem_seal(mem, old + olen, nlen - olen, VMC_MEM_RW);
        vmc_mem_zero(mem, old + olen, nlen - olen);
        vmc_lx_protect(hc->vcpu->vm, old + olen, nlen - olen, prot);
        return (int64_t)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    uint64_t at = find(lx, nlen);
    if (!at || !take(lx, at, at + nlen))
        return -ENOMEM;
    vmc_mem_seal(mem, at, nlen, VMC_MEM_RW);
    uint8_t *src = vmc_mem_ptr(mem, old, olen), *dst = vmc_mem_ptr_w(mem, at, nlen);
    if (!src || !dst) { /* the old pages are sealed (PROT_NONE): the VMM may not read them either */
        vmc_mem_seal(mem, at, nlen, VMC_MEM_NONE);
        give(lx, at, at + nlen);
        return -EFAULT;
    }
    memcpy(dst, src, olen);
    vmc_mem_zero(mem, at + olen, nlen - olen);
    vmc_lx_protect(hc->vcpu->vm, at, nlen, prot);
    unmap_range(hc->vcpu, old, old + olen);
    return (int64_t)at;
}

bool vmc_lx_mapped(const struct vmc_linux *lx, uint64_t lo, uint64_t hi)
{
    if (lo < lx->image_lo || hi > lx->pt_base || (lo < lx->stack_low && hi > lx->mmap_top))
        return false;
    for (uint32_t i = 0; i < lx->nfree; i++)
        if (lx->free[i].start < hi && lo < lx->free[i].end)
            return false;
    return true;
}

/* mprotect: the rights of mapped pages, execute included (PROT_NONE: a touch faults, SIGSEGV). */
int64_t vmc_lx_mprotect(struct vmc_hcall *hc)
{
    uint64_t addr = hc->a.args[0], len = PAGE_UP(hc->a.args[1]), prot = hc->a.args[2];
    if ((addr & 4095) || addr + len < addr || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!vmc_lx_mapped(vmc_lx(hc), addr, addr + len))
        return -ENOMEM; /* Linux: part of the range is not mapped */
    return vmc_lx_protect(hc->vcpu->vm, addr, len, prot) < 0 ? -ENOMEM : 0;
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
