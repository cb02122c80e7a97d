/* SPDX-License-Identifier: MIT */
/* Guest memory: bounds-checked guest-physical access and guest-virtual translation. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* The region holding gpa and the bytes left in it from gpa, or NULL. */
static uint8_t *span(const struct vmc_mem *mem, uint64_t gpa, uint64_t *avail)
{
    if (gpa < mem->size) {
        *avail = mem->size - gpa;
        return mem->host + gpa;
    }
    const struct vmc_regions *tab = atomic_load_explicit(&mem->extra, memory_order_acquire);
    size_t lo = 0, hi = tab ? tab->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vmc_region *r = &tab->r[mid];
        if (gpa < r->gpa)
            hi = mid;
        else if (gpa - r->gpa >= r->size)
            lo = mid + 1;
        else {
            *avail = r->size - (gpa - r->gpa);
            return r->host + (gpa - r->gpa);
        }
    }
    return NULL;
}

void *vmc_mem_ptr(const struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    /* No sum is formed before it is known not to wrap: avail bounds len. */
    uint64_t avail;
    uint8_t *p = span(mem, gpa, &avail);
    if (!p || len > avail)
        return NULL;
    return p;
}

static int mem_copy(const struct vmc_mem *mem, uint64_t gpa, void *buf, uint64_t len, bool write)
{
    if (len && gpa + (len - 1) < gpa)
        return -EFAULT;
    /* Check the whole range first so that a failed write leaves guest memory untouched. */
    for (uint64_t a = gpa, left = len; left;) {
        uint64_t avail;
        if (!span(mem, a, &avail))
            return -EFAULT;
        uint64_t n = avail < left ? avail : left;
        a += n;
        left -= n;
    }
    uint8_t *b = buf;
    while (len) {
        uint64_t avail;
        uint8_t *p = span(mem, gpa, &avail);
        uint64_t n = avail < len ? avail : len;
        if (write)
            memcpy(p, b, n);
        else
            memcpy(b, p, n);
        b += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int vmc_mem_read(const struct vmc_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
    return mem_copy(mem, gpa, buf, len, false);
}

int vmc_mem_write(const struct vmc_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
    return mem_copy(mem, gpa, (void *)buf, len, true);
}

int vmc_mem_zero(const struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    uint8_t *p = len ? vmc_mem_ptr(mem, gpa, len) : NULL;
    if (!len)
        return 0;
    if (!p)
        return -EFAULT;
    /*
     * Whole host pages are dropped rather than written: fresh anonymous memory reads as zero, and a large
     * BSS then costs no page faults until the guest touches it.
     */
    uint64_t head = (4096 - (gpa & 4095)) & 4095;
    if (head > len)
        head = len;
    memset(p, 0, head);
    uint64_t mid = (len - head) & ~4095ull;
    if (mid && madvise(p + head, mid, MADV_DONTNEED) != 0)
        memset(p + head, 0, mid);
    memset(p + head + mid, 0, len - head - mid);
    return 0;
}

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

int vmc_gva_to_gpa(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, uint64_t *gpa)
{
    /* Non-canonical addresses never translate (bits 63:47 must be equal). */
    uint64_t top = gva >> 47;
    if (top != 0 && top != 0x1ffff)
        return -EFAULT;
    uint64_t table = cr3 & PTE_ADDR;
    for (int level = 3; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t idx = (gva >> shift) & 511;
        uint64_t pte;
        /* One 8-byte copy per entry: the guest may rewrite its tables concurrently. */
        if (vmc_mem_read(mem, table + idx * 8, &pte, sizeof(pte)) != 0)
            return -EFAULT;
        if (!(pte & PTE_P))
            return -EFAULT;
        if ((acc & VMC_ACC_WRITE) && !(pte & PTE_W))
            return -EFAULT;
        if ((acc & VMC_ACC_USER) && !(pte & PTE_U))
            return -EFAULT;
        bool leaf = level == 0 || ((level == 1 || level == 2) && (pte & PTE_PS));
        if (leaf) {
            uint64_t off_mask = (1ull << shift) - 1;
            *gpa = ((pte & PTE_ADDR) & ~off_mask) | (gva & off_mask);
            return 0;
        }
        table = pte & PTE_ADDR;
    }
    return -EFAULT;
}

static int gva_copy(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, void *buf,
                    uint64_t len, bool write)
{
    if (len && gva + (len - 1) < gva)
        return -EFAULT;
    if (write)
        acc |= VMC_ACC_WRITE;
    /* Translate every page before copying anything: a fault leaves the guest's buffer untouched. */
    for (uint64_t a = gva & ~4095ull; len && a <= gva + (len - 1); a += 4096) {
        uint64_t gpa;
        if (vmc_gva_to_gpa(mem, cr3, a, acc, &gpa) != 0 || !vmc_mem_ptr(mem, gpa, 1))
            return -EFAULT;
        if (a + 4096 < a)
            break;
    }
    uint8_t *b = buf;
    while (len) {
        uint64_t gpa;
        if (vmc_gva_to_gpa(mem, cr3, gva, acc, &gpa) != 0)
            return -EFAULT; /* the guest changed its tables under us: stop, partially copied */
        uint64_t chunk = 4096 - (gva & 4095);
        if (chunk > len)
            chunk = len;
        if (mem_copy(mem, gpa, b, chunk, write) != 0)
            return -EFAULT;
        b += chunk;
        gva += chunk;
        len -= chunk;
    }
    return 0;
}

int vmc_gva_read(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, void *buf, uint64_t len)
{
    return gva_copy(mem, cr3, gva, acc, buf, len, false);
}

int vmc_gva_write(const struct vmc_mem *mem, uint64_t cr3, uint64_t gva, unsigned acc, const void *buf,
                  uint64_t len)
{
    return gva_copy(mem, cr3, gva, acc, (void *)buf, len, true);
}
