/* SPDX-License-Identifier: MIT */
/* Guest memory: bounds-checked guest-physical access, and the hot-add window's merged runs of RAM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm.h"
#include "mem.h"
#include "util.h"

_Static_assert(offsetof(struct vmc_region, gpa) == 0 && offsetof(struct vmc_region, size) == 8,
               "a region starts with its range (vmc_range_find)");

/* The region holding gpa and the bytes left in it from gpa, or NULL. */
static uint8_t *span(const struct vmc_mem *mem, uint64_t gpa, uint64_t *avail)
{
    if (gpa < mem->size) {
        *avail = mem->size - gpa;
        return mem->host + gpa;
    }
    const struct vmc_regions *tab = atomic_load_explicit(&mem->runs, memory_order_acquire);
    size_t n = tab ? tab->n : 0, i = n ? vmc_range_find(tab->r, n, sizeof(tab->r[0]), gpa) : 0;
    if (i == n)
        return NULL;
    *avail = tab->r[i].size - (gpa - tab->r[i].gpa);
    return tab->r[i].host + (gpa - tab->r[i].gpa);
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
    if (!len)
        return 0;
    uint8_t *p = vmc_mem_ptr(mem, gpa, len);
    if (!p)
        return -EFAULT;
    /* Whole host pages are dropped rather than written: fresh anonymous memory reads as zero, and a large
     * BSS then costs no page faults until the guest touches it. */
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

int vmc_mem_init(struct vmc_mem *mem, uint64_t size, uint64_t max_size, uint64_t hot_base, uint64_t hot_size)
{
    memset(mem, 0, sizeof(*mem));
    pthread_mutex_init(&mem->lock, NULL);
    mem->populated_pages = size >> 12;
    mem->max_pages = max_size >> 12;
    if (max_size <= size)
        hot_size = 0;
    /* Untouched guest memory costs nothing (MAP_NORESERVE, populated on first touch). */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    mem->host = p;
    mem->size = size;
    /* THP above the first 2 MiB only: there the guest's 2 MiB mappings meet host huge pages and first
     * touches become nearly free, while a huge page under the VMM region would be zeroed whole (~250 us
     * measured here) before the first instruction runs. */
    if (size > 0x200000)
        madvise(mem->host + 0x200000, size - 0x200000, MADV_HUGEPAGE);
    if (hot_size) {
        p = mmap(NULL, hot_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            munmap(mem->host, size);
            mem->host = NULL;
            return -e;
        }
        mem->hot = p;
        mem->hot_base = hot_base;
        mem->hot_size = hot_size;
    }
    return 0;
}

void vmc_mem_free(struct vmc_mem *mem)
{
    if (mem->host)
        munmap(mem->host, mem->size);
    if (mem->hot)
        munmap(mem->hot, mem->hot_size);
    struct vmc_regions *tab = mem->runs;
    while (tab) {
        struct vmc_regions *older = tab->older;
        free(tab);
        tab = older;
    }
    mem->host = mem->hot = NULL;
    mem->runs = NULL;
    pthread_mutex_destroy(&mem->lock);
}

/* The runs that [gpa, gpa+size) would join: index of the first run ending at or after gpa. */
static size_t first_touching(const struct vmc_regions *tab, uint64_t gpa)
{
    size_t i = 0;
    while (tab && i < tab->n && tab->r[i].gpa + tab->r[i].size < gpa)
        i++;
    return i;
}

int vmc_mem_can_populate(const struct vmc_mem *mem, uint64_t gpa, uint64_t size, uint64_t pending)
{
    if (!mem->hot || gpa < mem->hot_base || size == 0 || size > mem->hot_size ||
        gpa - mem->hot_base > mem->hot_size - size)
        return -EINVAL;
    const struct vmc_regions *tab = mem->runs;
    size_t n = tab ? tab->n : 0, i = first_touching(tab, gpa);
    bool left = i < n && tab->r[i].gpa + tab->r[i].size == gpa;
    size_t j = left ? i + 1 : i;
    if (j < n && tab->r[j].gpa < gpa + size)
        return -EEXIST;
    if (mem->populated_pages + pending + (size >> 12) > mem->max_pages)
        return -ENOMEM;
    bool right = j < n && tab->r[j].gpa == gpa + size;
    if (!left && !right && n >= VMC_HOTADD_RUNS_MAX)
        return -ENOSPC;
    return 0;
}

static uint32_t take_slot(struct vmc_mem *mem)
{
    for (uint32_t s = 1; s <= VMC_HOTADD_RUNS_MAX; s++)
        if (!mem->slot_used[s]) {
            mem->slot_used[s] = 1;
            return s;
        }
    return 0;
}

/*
 * Publish the new table before KVM's memslots change: while an old slot is deleted and the merged one
 * is not yet created, a vCPU touching that range gets an MMIO exit, and the exit path then finds the
 * range in this table and serves the access from host memory (exit.c). Host memory never moves.
 */
static int replace_slots(struct vmc_mem *mem, struct vmc_kvm *kvm, int vm_fd, struct vmc_regions *tab,
                         const struct vmc_region *gone[2], const struct vmc_region *merged)
{
    struct vmc_regions *old = mem->runs;
    tab->older = old;
    atomic_store_explicit(&mem->runs, tab, memory_order_release);
    for (int k = 0; k < 2; k++)
        if (gone[k] && vmc_kvm_set_memslot(kvm, vm_fd, gone[k]->slot, gone[k]->gpa, 0, gone[k]->host) == 0)
            mem->slot_used[gone[k]->slot] = 0;
    return vmc_kvm_set_memslot(kvm, vm_fd, merged->slot, merged->gpa, merged->size, merged->host);
}

int vmc_mem_populate(struct vmc_mem *mem, struct vmc_kvm *kvm, int vm_fd, uint64_t gpa, uint64_t size)
{
    int rc = vmc_mem_can_populate(mem, gpa, size, 0);
    if (rc)
        return rc;
    uint8_t *host = mem->hot + (gpa - mem->hot_base);
    if (mprotect(host, size, PROT_READ | PROT_WRITE) != 0)
        return -ENOMEM;
    const struct vmc_regions *old = mem->runs;
    size_t n = old ? old->n : 0, i = first_touching(old, gpa);
    struct vmc_regions *tab = malloc(sizeof(*tab) + (n + 1) * sizeof(tab->r[0]));
    uint32_t slot = tab ? take_slot(mem) : 0;
    if (!slot) {
        free(tab);
        mprotect(host, size, PROT_NONE);
        return -ENOMEM;
    }
    const struct vmc_region *gone[2] = { NULL, NULL };
    struct vmc_region m = { gpa, size, host, slot };
    if (i < n && old->r[i].gpa + old->r[i].size == gpa) {
        gone[0] = &old->r[i];
        m.gpa = old->r[i].gpa, m.host = old->r[i].host, m.size += old->r[i].size;
    }
    size_t j = gone[0] ? i + 1 : i;
    if (j < n && old->r[j].gpa == gpa + size) {
        gone[1] = &old->r[j];
        m.size += old->r[j].size;
    }
    size_t w = 0;
    for (size_t k = 0; k < i; k++)
        tab->r[w++] = old->r[k];
    tab->r[w++] = m;
    for (size_t k = j + (gone[1] != NULL); k < n; k++)
        tab->r[w++] = old->r[k];
    tab->n = w;
    rc = replace_slots(mem, kvm, vm_fd, tab, gone, &m);
    if (rc == 0) {
        mem->populated_pages += size >> 12;
        return 0;
    }
    /* KVM refused the merged slot: put the old runs and their slots back, as if nothing happened. */
    mem->slot_used[slot] = 0;
    struct vmc_regions *back = malloc(sizeof(*back) + n * sizeof(back->r[0]));
    if (back) {
        back->n = n;
        if (n)
            memcpy(back->r, old->r, n * sizeof(old->r[0]));
        back->older = tab;
        atomic_store_explicit(&mem->runs, back, memory_order_release);
    }
    for (int k = 0; k < 2; k++)
        if (gone[k] &&
            vmc_kvm_set_memslot(kvm, vm_fd, gone[k]->slot, gone[k]->gpa, gone[k]->size, gone[k]->host) == 0)
            mem->slot_used[gone[k]->slot] = 1;
    if (back)
        mprotect(host, size, PROT_NONE);
    return -ENOMEM;
}
