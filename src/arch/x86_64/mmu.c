/* SPDX-License-Identifier: MIT */
/* The guest page walk (SDM vol. 3A chapter 4) and checked guest-linear copies: the one path from a guest
 * pointer to host memory, used by guest handles, crash reports and instruction decoding. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "../../mem.h"
#include "mmu.h"
#include "x86.h"

void vmc_mmu_from_sregs(const struct kvm_sregs *s, struct vmc_mmu *m)
{
    m->cr3 = s->cr3;
    m->wp = (s->cr0 & X86_CR0_WP) != 0;
    m->nxe = (s->efer & X86_EFER_NXE) != 0;
    m->pse = (s->cr4 & X86_CR4_PSE) != 0;
    if (!(s->cr0 & X86_CR0_PG))
        m->mode = VMC_PAGING_NONE;
    else if (s->efer & X86_EFER_LMA)
        m->mode = (s->cr4 & X86_CR4_LA57) ? VMC_PAGING_5LEVEL : VMC_PAGING_4LEVEL;
    else if (s->cr4 & X86_CR4_PAE)
        m->mode = VMC_PAGING_PAE;
    else
        m->mode = VMC_PAGING_32;
}

/* One walk step's permission check: every level must allow what the access needs (SDM 4.6). */
static bool permits(const struct vmc_mmu *m, uint64_t pte, unsigned acc)
{
    if (!(pte & X86_PTE_P))
        return false;
    if ((acc & VMC_ACC_USER) && !(pte & X86_PTE_U))
        return false;
    if ((acc & VMC_ACC_WRITE) && !(pte & X86_PTE_W) && ((acc & VMC_ACC_USER) || m->wp))
        return false;
    if ((acc & VMC_ACC_FETCH) && m->nxe && (pte & X86_PTE_NX))
        return false;
    return true;
}

static int read_entry(const struct vmc_mem *mem, uint64_t addr, unsigned size, uint64_t *pte)
{
    /* One copy per entry: the guest may rewrite its tables concurrently. */
    *pte = 0;
    return vmc_mem_read(mem, addr, pte, size);
}

/* 32-bit paging: 4-byte entries, 10+10+12 bits, 4 MiB pages when CR4.PSE (SDM 4.3). */
static int walk32(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                  uint64_t *gpa)
{
    uint64_t pde, pte;
    if (la >> 32 || read_entry(mem, (m->cr3 & 0xfffff000u) + ((la >> 22) & 1023) * 4, 4, &pde) ||
        !permits(m, pde, acc))
        return -EFAULT;
    if (m->pse && (pde & X86_PTE_PS)) {
        *gpa = (pde & 0xffc00000u) | (la & 0x3fffff);
        return 0;
    }
    if (read_entry(mem, (pde & 0xfffff000u) + ((la >> 12) & 1023) * 4, 4, &pte) || !permits(m, pte, acc))
        return -EFAULT;
    *gpa = (pte & 0xfffff000u) | (la & 0xfff);
    return 0;
}

/* PAE and IA-32e paging: 8-byte entries, 9 bits per level, large pages at the PD and PDPT levels. */
static int walk64(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                  uint64_t *gpa)
{
    int levels = m->mode == VMC_PAGING_5LEVEL ? 5 : m->mode == VMC_PAGING_4LEVEL ? 4 : 3;
    uint64_t table = m->cr3 & X86_PTE_ADDR;
    if (levels == 3) {
        if (la >> 32)
            return -EFAULT;
        table = m->cr3 & 0xffffffe0u; /* 32-byte aligned PDPT of 4 entries (SDM 4.4.1) */
    } else {
        /* Canonical: bits 63..47 (or 56) all equal. */
        int64_t top = (int64_t)la >> (levels == 5 ? 56 : 47);
        if (top != 0 && top != -1)
            return -EFAULT;
    }
    for (int level = levels - 1; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t idx = levels == 3 && level == 2 ? (la >> 30) & 3 : (la >> shift) & 511, pte;
        if (read_entry(mem, table + idx * 8, 8, &pte))
            return -EFAULT;
        /* PAE PDPTEs have only P: the rights come from the lower levels. */
        if (levels == 3 && level == 2 ? !(pte & X86_PTE_P) : !permits(m, pte, acc))
            return -EFAULT;
        bool leaf = level == 0 || ((level == 1 || (level == 2 && levels > 3)) && (pte & X86_PTE_PS));
        if (leaf) {
            uint64_t off = (1ull << shift) - 1;
            *gpa = ((pte & X86_PTE_ADDR) & ~off) | (la & off);
            return 0;
        }
        table = pte & X86_PTE_ADDR;
    }
    return -EFAULT;
}

int vmc_mmu_translate(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                      uint64_t *gpa)
{
    switch (m->mode) {
    case VMC_PAGING_NONE:
        *gpa = la;
        return 0;
    case VMC_PAGING_32:
        return walk32(mem, m, la, acc, gpa);
    default:
        return walk64(mem, m, la, acc, gpa);
    }
}

/* Translate every page of [la, la+len) and check it is RAM, before anything is copied. */
static int check_range(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                       uint64_t len)
{
    if (len && la + (len - 1) < la)
        return -EFAULT;
    uint64_t last = la + (len - 1);
    for (uint64_t a = la; len;) {
        uint64_t gpa, page_end = a | 4095, end = page_end < last ? page_end : last;
        if (vmc_mmu_translate(mem, m, a, acc, &gpa) != 0 ||
            !((acc & VMC_ACC_WRITE) ? vmc_mem_ptr_w : vmc_mem_ptr)(mem, gpa, end - a + 1))
            return -EFAULT;
        if (end == last)
            break;
        a = end + 1;
    }
    return 0;
}

static int copy(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc, void *buf,
                uint64_t len, bool write)
{
    if (write)
        acc |= VMC_ACC_WRITE;
    int rc = check_range(mem, m, la, acc, len);
    if (rc)
        return rc;
    uint8_t *b = buf;
    while (len) {
        uint64_t gpa, chunk = 4096 - (la & 4095);
        if (chunk > len)
            chunk = len;
        /* A failure here means the guest changed its tables under us: stop, partially copied. */
        if (vmc_mmu_translate(mem, m, la, acc, &gpa) != 0 ||
            (write ? vmc_mem_write(mem, gpa, b, chunk) : vmc_mem_read(mem, gpa, b, chunk)) != 0)
            return -EFAULT;
        b += chunk;
        la += chunk;
        len -= chunk;
    }
    return 0;
}

int vmc_mmu_read(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc, void *buf,
                 uint64_t len)
{
    return copy(mem, m, la, acc, buf, len, false);
}

int vmc_mmu_write(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                  const void *buf, uint64_t len)
{
    return copy(mem, m, la, acc, (void *)buf, len, true);
}

int vmc_mmu_iov(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, uint64_t len, unsigned acc,
                struct iovec *iov, int max)
{
    int n = 0;
    int rc = check_range(mem, m, la, acc, len);
    if (rc)
        return rc;
    while (len) {
        uint64_t gpa, chunk = 4096 - (la & 4095);
        if (chunk > len)
            chunk = len;
        if (vmc_mmu_translate(mem, m, la, acc, &gpa) != 0)
            return -EFAULT;
        uint8_t *host = ((acc & VMC_ACC_WRITE) ? vmc_mem_ptr_w : vmc_mem_ptr)(mem, gpa, chunk);
        if (!host)
            return -EFAULT;
        if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == host) {
            iov[n - 1].iov_len += chunk; /* contiguous in the guest and on the host: one segment */
        } else {
            if (n == max)
                return -EFAULT;
            iov[n++] = (struct iovec){ host, chunk };
        }
        la += chunk;
        len -= chunk;
    }
    return n;
}
