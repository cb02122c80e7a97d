/* SPDX-License-Identifier: MIT */
/* Guest memory: bounds-checked guest-physical access, and the hot-add window's merged runs of RAM. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm.h"
#include "mem.h"

static bool page_populated(const struct vmc_mem *mem, uint64_t page)
{
    uint64_t w = atomic_load_explicit(&mem->populated[page / 64], memory_order_acquire);
    return (w >> (page % 64)) & 1;
}

/* Host memory at gpa and how many of the `want` bytes from there are RAM in one piece (*avail), or NULL. */
static bool page_bit(_Atomic uint64_t *map, uint64_t page)
{
    return map && (atomic_load_explicit(&map[page / 64], memory_order_acquire) >> (page % 64)) & 1;
}

static uint8_t *span(const struct vmc_mem *mem, uint64_t gpa, uint64_t want, uint64_t *avail, bool write)
{
    if (gpa < mem->size) {
        *avail = mem->size - gpa;
        if (mem->sealed) { /* up to the first sealed page, as far as the caller wants */
            uint64_t page = gpa >> 12, n = 0;
            do {
                if (page_bit(mem->sealed, page) || (write && page_bit(mem->readonly, page)))
                    break;
                n += n == 0 ? 4096 - (gpa & 4095) : 4096;
                page++;
            } while (n < want && n < *avail);
            if (n == 0)
                return NULL;
            *avail = n < *avail ? n : *avail;
        }
        return mem->host + gpa;
    }
    if (!mem->hot || gpa < mem->hot_base || gpa - mem->hot_base >= mem->hot_size)
        return NULL;
    uint64_t off = gpa - mem->hot_base, page = off >> 12;
    if (!page_populated(mem, page))
        return NULL;
    /* Count whole pages from gpa's: only as far as the caller wants (bounded work per access). */
    uint64_t n = 4096 - (off & 4095), last = mem->hot_size >> 12;
    while (n < want && ++page < last && page_populated(mem, page))
        n += 4096;
    *avail = n;
    return mem->hot + off;
}

static void *ptr(const struct vmc_mem *mem, uint64_t gpa, uint64_t len, bool write)
{
    /* No sum is formed before it is known not to wrap: avail bounds len. */
    uint64_t avail;
    uint8_t *p = span(mem, gpa, len, &avail, write);
    if (!p || len > avail)
        return NULL;
    return p;
}

void *vmc_mem_ptr(const struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    return ptr(mem, gpa, len, false);
}

void *vmc_mem_ptr_w(const struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    return ptr(mem, gpa, len, true);
}

static int mem_copy(const struct vmc_mem *mem, uint64_t gpa, void *buf, uint64_t len, bool write)
{
    if (len && gpa + (len - 1) < gpa)
        return -EFAULT;
    for (uint64_t a = gpa, left = len; left;) {
        uint64_t avail;
        if (!span(mem, a, left, &avail, write))
            return -EFAULT;
        uint64_t n = avail < left ? avail : left;
        a += n;
        left -= n;
    }
    uint8_t *b = buf;
    while (len) {
        uint64_t avail;
        uint8_t *p = span(mem, gpa, len, &avail, write);
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

static void set_bits(_Atomic uint64_t *map, uint64_t gpa, uint64_t len, bool on)
{
    for (uint64_t p = gpa >> 12; p < (gpa + len) >> 12; p++)
        if (on)
            atomic_fetch_or(&map[p / 64], 1ull << (p % 64));
        else
            atomic_fetch_and(&map[p / 64], ~(1ull << (p % 64)));
}

int vmc_mem_seal(struct vmc_mem *mem, uint64_t gpa, uint64_t len, enum vmc_mem_access access)
{
    if ((gpa | len) & 4095 || gpa > mem->size || len > mem->size - gpa)
        return -EINVAL;
    size_t words = (mem->size / 4096 + 63) / 64;
    if (!mem->sealed && !(mem->sealed = calloc(words, sizeof(uint64_t))))
        return -ENOMEM;
    if (!mem->readonly && !(mem->readonly = calloc(words, sizeof(uint64_t))))
        return -ENOMEM;
    int prot = access == VMC_MEM_RW ? PROT_READ | PROT_WRITE : access == VMC_MEM_READ ? PROT_READ : PROT_NONE;
    atomic_fetch_add(&mem->sealing, 1);
    /* Rights are taken away from the VMM's paths before the host's mapping, and given back after it:
     * no VMM thread ever touches a page the host forbids. */
    if (access != VMC_MEM_RW)
        set_bits(mem->readonly, gpa, len, true);
    if (access == VMC_MEM_NONE)
        set_bits(mem->sealed, gpa, len, true);
    int rc = mprotect(mem->host + gpa, len, prot) != 0 ? -errno : 0;
    if (rc == 0 && access != VMC_MEM_NONE)
        set_bits(mem->sealed, gpa, len, false);
    if (rc == 0 && access == VMC_MEM_RW)
        set_bits(mem->readonly, gpa, len, false);
    atomic_fetch_add(&mem->seal_gen, 1);
    atomic_fetch_sub(&mem->sealing, 1);
    return rc;
}

int vmc_mem_flush(struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    if ((gpa | len) & 4095 || gpa > mem->size || len > mem->size - gpa)
        return -EINVAL;
    enum vmc_mem_access was = vmc_mem_access(mem, gpa);
    atomic_fetch_add(&mem->sealing, 1); /* one change for vCPUs that fault in between */
    int rc = vmc_mem_seal(mem, gpa, len, VMC_MEM_NONE);
    if (rc == 0)
        rc = vmc_mem_seal(mem, gpa, len, was);
    atomic_fetch_sub(&mem->sealing, 1);
    return rc;
}

uint64_t vmc_mem_rights_epoch(const struct vmc_mem *mem)
{
    /* Odd while a change is under way (the count is read first: a change that ends between the two reads
     * has moved the generation, which the comparison after the EFAULT sees). */
    uint32_t busy = atomic_load(&mem->sealing);
    return atomic_load(&mem->seal_gen) * 2 + (busy != 0);
}

bool vmc_mem_rights_settled(const struct vmc_mem *mem, uint64_t epoch)
{
    return !(epoch & 1) && vmc_mem_rights_epoch(mem) == epoch;
}

enum vmc_mem_access vmc_mem_access(const struct vmc_mem *mem, uint64_t gpa)
{
    uint64_t page = gpa >> 12;
    return page_bit(mem->sealed, page)     ? VMC_MEM_NONE
           : page_bit(mem->readonly, page) ? VMC_MEM_READ
                                           : VMC_MEM_RW;
}

int vmc_mem_zero(const struct vmc_mem *mem, uint64_t gpa, uint64_t len)
{
    if (!len)
        return 0;
    uint8_t *p = vmc_mem_ptr_w(mem, gpa, len);
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
    if (max_size <= size || !hot_size)
        return 0;
    mem->populated = calloc(hot_size / 4096 / 64, sizeof(uint64_t));
    mem->runs = malloc(VMC_HOTADD_RUNS_MAX * sizeof(mem->runs[0]));
    p = mmap(NULL, hot_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED || !mem->populated || !mem->runs) {
        int e = p == MAP_FAILED ? errno : ENOMEM;
        if (p != MAP_FAILED)
            munmap(p, hot_size);
        vmc_mem_free(mem);
        return -e;
    }
    mem->hot = p;
    mem->hot_base = hot_base;
    mem->hot_size = hot_size;
    return 0;
}

void vmc_mem_free(struct vmc_mem *mem)
{
    if (mem->host)
        munmap(mem->host, mem->size);
    if (mem->hot)
        munmap(mem->hot, mem->hot_size);
    free(mem->populated);
    free(mem->sealed);
    free(mem->readonly);
    mem->sealed = mem->readonly = NULL;
    free(mem->runs);
    mem->host = mem->hot = NULL;
    mem->populated = NULL;
    mem->runs = NULL;
    pthread_mutex_destroy(&mem->lock);
}

/* Index of the first run ending at or after gpa: the run [gpa, gpa+size) may join on its left. */
static size_t first_touching(const struct vmc_mem *mem, uint64_t gpa)
{
    size_t i = 0;
    while (i < mem->nruns && mem->runs[i].gpa + mem->runs[i].size < gpa)
        i++;
    return i;
}

int vmc_mem_can_populate(const struct vmc_mem *mem, uint64_t gpa, uint64_t size, uint64_t pending)
{
    if (!mem->hot || gpa < mem->hot_base || size == 0 || size > mem->hot_size ||
        gpa - mem->hot_base > mem->hot_size - size)
        return -EINVAL;
    for (uint64_t a = gpa; a < gpa + size; a += 4096)
        if (page_populated(mem, (a - mem->hot_base) >> 12))
            return -EEXIST;
    if (mem->populated_pages + pending + (size >> 12) > mem->max_pages)
        return -ENOMEM;
    size_t i = first_touching(mem, gpa);
    bool left = i < mem->nruns && mem->runs[i].gpa + mem->runs[i].size == gpa;
    size_t j = left ? i + 1 : i;
    bool right = j < mem->nruns && mem->runs[j].gpa == gpa + size;
    if (!left && !right && mem->nruns >= VMC_HOTADD_RUNS_MAX)
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

static void mark_pages(struct vmc_mem *mem, uint64_t gpa, uint64_t size, bool set)
{
    for (uint64_t p = (gpa - mem->hot_base) >> 12, end = p + (size >> 12); p < end; p++) {
        uint64_t bit = 1ull << (p % 64);
        if (set)
            atomic_fetch_or_explicit(&mem->populated[p / 64], bit, memory_order_release);
        else
            atomic_fetch_and_explicit(&mem->populated[p / 64], ~bit, memory_order_release);
    }
}

static uint8_t *host_of(const struct vmc_mem *mem, uint64_t gpa)
{
    return mem->hot + (gpa - mem->hot_base);
}

/*
 * Replace the neighbouring runs' memslots with one for the merged run. The pages are marked RAM first:
 * while an old slot is deleted and the new one not yet created, a vCPU touching that range gets an MMIO
 * exit, and the exit path then finds the page populated and serves the access from host memory (io.c).
 */
static int merge_slots(struct vmc_mem *mem, struct vmc_kvm *kvm, int vm_fd, const struct vmc_region *gone[2],
                       const struct vmc_region *merged)
{
    for (int k = 0; k < 2; k++)
        if (gone[k] && vmc_kvm_set_memslot(kvm, vm_fd, gone[k]->slot, gone[k]->gpa, 0, NULL) == 0)
            mem->slot_used[gone[k]->slot] = 0;
    int rc =
        vmc_kvm_set_memslot(kvm, vm_fd, merged->slot, merged->gpa, merged->size, host_of(mem, merged->gpa));
    if (rc == 0)
        return 0;
    for (int k = 0; k < 2; k++) /* KVM refused the merged slot: the old ones back, as they were */
        if (gone[k] && vmc_kvm_set_memslot(kvm, vm_fd, gone[k]->slot, gone[k]->gpa, gone[k]->size,
                                           host_of(mem, gone[k]->gpa)) == 0)
            mem->slot_used[gone[k]->slot] = 1;
    return rc;
}

int vmc_mem_populate(struct vmc_mem *mem, struct vmc_kvm *kvm, int vm_fd, uint64_t gpa, uint64_t size)
{
    int rc = vmc_mem_can_populate(mem, gpa, size, 0);
    if (rc)
        return rc;
    size_t i = first_touching(mem, gpa), n = mem->nruns;
    struct vmc_region m = { gpa, size, 0 };
    const struct vmc_region *gone[2] = { NULL, NULL };
    if (i < n && mem->runs[i].gpa + mem->runs[i].size == gpa) {
        gone[0] = &mem->runs[i];
        m.gpa = mem->runs[i].gpa, m.size += mem->runs[i].size;
    }
    size_t j = gone[0] ? i + 1 : i;
    if (j < n && mem->runs[j].gpa == gpa + size) {
        gone[1] = &mem->runs[j];
        m.size += mem->runs[j].size;
    }
    /* A merged run takes over a neighbour's memslot id: merging never needs a free one. */
    m.slot = gone[0] ? gone[0]->slot : gone[1] ? gone[1]->slot : take_slot(mem);
    if (!m.slot || mprotect(host_of(mem, gpa), size, PROT_READ | PROT_WRITE) != 0) {
        if (m.slot && !gone[0] && !gone[1])
            mem->slot_used[m.slot] = 0;
        return -ENOMEM;
    }
    mark_pages(mem, gpa, size, true);
    rc = merge_slots(mem, kvm, vm_fd, gone, &m);
    if (rc < 0) {
        mark_pages(mem, gpa, size, false);
        mprotect(host_of(mem, gpa), size, PROT_NONE);
        if (!gone[0] && !gone[1])
            mem->slot_used[m.slot] = 0;
        return -ENOMEM;
    }
    mem->slot_used[m.slot] = 1;
    /* The run list: drop the merged neighbours, insert the merged run at i. */
    size_t drop = (gone[0] != NULL) + (gone[1] != NULL);
    memmove(&mem->runs[i + 1], &mem->runs[i + drop], (n - i - drop) * sizeof(mem->runs[0]));
    mem->runs[i] = m;
    mem->nruns = n + 1 - drop;
    mem->populated_pages += size >> 12;
    return 0;
}
