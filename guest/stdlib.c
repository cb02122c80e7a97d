/* SPDX-License-Identifier: MIT */
/* The SDK's small C library: a heap over free RAM (growing with memory_op), qsort, bsearch, abs, rand. */
#include "vmcall/guest.h"

/*
 * The heap: first fit over an address-ordered free list, neighbours merged on free, 16-byte alignment.
 * Its RAM is what the boot info says is free: from the image's end to the end of boot RAM, taken on the
 * first malloc (a guest that never allocates uses that RAM as it likes). A kernel-mode guest in a VM with
 * a --mem-max above --mem grows it 2 MiB at a time in the hot-add window (memory_op populate, mapped with
 * 2 MiB pages). One spinlock makes it safe for several vCPUs.
 */
#define ALIGN 16u
#define MAGIC_USED 0x0a110c8edu
#define MAGIC_FREE 0xf4eeb10cu
#define GROW (2u << 20)

struct block {
    size_t size;  /* bytes, header included, a multiple of ALIGN */
    size_t magic; /* MAGIC_USED or MAGIC_FREE: free() of anything else is a bug it reports */
};
struct free_block {
    struct block h;
    struct free_block *next; /* address order */
};

static vmcg_spinlock_t heap_lock = VMCG_SPINLOCK_INIT;
static struct free_block *free_list;
static bool heap_ready;

static void add_free(char *start, size_t size);

static uintptr_t align_up(uintptr_t v, uintptr_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void heap_init(void)
{
    const struct vmc_boot_info *bi = vmcg_boot_info();
    uintptr_t start = align_up((uintptr_t)bi->image_end, 4096), end = (uintptr_t)bi->ram_size;
    if (end > start + 2 * ALIGN)
        add_free((char *)start, end - start);
    heap_ready = true;
}

/* More RAM from the hot-add window: whole 2 MiB extents populated and mapped, kernel mode only. */
static bool heap_grow(size_t need)
{
#if defined(__x86_64__)
    static uint64_t window_pd[512] __attribute__((aligned(4096)));
    static uint64_t grown; /* bytes of the hot-add window in use */
    if (vmcg_boot_info()->flags & VMC_BOOT_F_USER)
        return false; /* memory_op and the page tables belong to kernel mode */
    uint64_t extents = (need + GROW - 1) / GROW;
    if (grown + extents * GROW > VMC_HOTADD_SIZE)
        return false;
    uint64_t frames[64];
    extents = extents > 64 ? 64 : extents;
    for (uint64_t i = 0; i < extents; i++)
        frames[i] = (VMC_HOTADD_BASE + grown + i * GROW) >> 12;
    struct vmc_mem_reservation r = { (uint64_t)(uintptr_t)frames, extents, 9, 0, VMC_DOMID_SELF, { 0 } };
    long done = vmcg_memory_op(VMC_MEMOP_POPULATE, &r);
    if (done <= 0)
        return false;
    volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)VMC_LAYOUT_PDPT;
    pdpt[VMC_HOTADD_BASE >> 30] = (uint64_t)(uintptr_t)window_pd | 3; /* the window's first GiB */
    for (long i = 0; i < done; i++)
        window_pd[(grown >> 21) + (uint64_t)i] = (VMC_HOTADD_BASE + grown + (uint64_t)i * GROW) | 0x83;
    __asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
    add_free((char *)(uintptr_t)(VMC_HOTADD_BASE + grown), (size_t)done * GROW);
    grown += (uint64_t)done * GROW;
    return (size_t)done * GROW >= need;
#else
    (void)need;
    return false;
#endif
}

/* Insert [start, start+size) into the free list, merged with free neighbours. */
static void add_free(char *start, size_t size)
{
    struct free_block *b = (struct free_block *)start, *prev = NULL, *next = free_list;
    while (next && (char *)next < start) {
        prev = next;
        next = next->next;
    }
    b->h = (struct block){ size, MAGIC_FREE };
    b->next = next;
    if (prev)
        prev->next = b;
    else
        free_list = b;
    if (next && start + b->h.size == (char *)next) {
        b->h.size += next->h.size;
        b->next = next->next;
    }
    if (prev && (char *)prev + prev->h.size == start) {
        prev->h.size += b->h.size;
        prev->next = b->next;
    }
}

static void *take(size_t want)
{
    for (struct free_block **link = &free_list; *link; link = &(*link)->next) {
        struct free_block *b = *link;
        if (b->h.size < want)
            continue;
        if (b->h.size - want >= sizeof(struct free_block) + ALIGN) { /* split: the tail stays free */
            struct free_block *rest = (struct free_block *)((char *)b + want);
            rest->h = (struct block){ b->h.size - want, MAGIC_FREE };
            rest->next = b->next;
            *link = rest;
            b->h.size = want;
        } else {
            *link = b->next;
        }
        b->h.magic = MAGIC_USED;
        return (char *)b + sizeof(struct block);
    }
    return NULL;
}

void *malloc(size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t want = align_up(n + sizeof(struct block), ALIGN);
    if (want < sizeof(struct free_block))
        want = sizeof(struct free_block);
    vmcg_spin_lock(&heap_lock);
    if (!heap_ready)
        heap_init();
    void *p = take(want);
    if (!p && heap_grow(want + GROW))
        p = take(want);
    vmcg_spin_unlock(&heap_lock);
    return p;
}

static struct block *header(void *p)
{
    struct block *b = (struct block *)((char *)p - sizeof(struct block));
    if (b->magic != MAGIC_USED)
        vmcg_assert_fail(__FILE__, __LINE__,
                         "free/realloc of a pointer malloc did not return (or freed twice)", 0, 0, 0);
    return b;
}

void free(void *p)
{
    if (!p)
        return;
    vmcg_spin_lock(&heap_lock);
    struct block *b = header(p);
    add_free((char *)b, b->size);
    vmcg_spin_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    void *p = malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (!n) {
        free(p);
        return NULL;
    }
    vmcg_spin_lock(&heap_lock);
    size_t have = header(p)->size - sizeof(struct block);
    vmcg_spin_unlock(&heap_lock);
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, have);
        free(p);
    }
    return q;
}

/* ---- sorting and searching ---- */

static void swap_bytes(char *a, char *b, size_t size)
{
    while (size--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Quicksort with a median of three, insertion sort below 8 elements, recursion on the smaller side
 * only (the stack stays O(log n): guest stacks are small). */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *a = base;
    while (n > 7) {
        char *lo = a, *mid = a + (n / 2) * size, *hi = a + (n - 1) * size;
        if (cmp(mid, lo) < 0)
            swap_bytes(mid, lo, size);
        if (cmp(hi, lo) < 0)
            swap_bytes(hi, lo, size);
        if (cmp(hi, mid) < 0)
            swap_bytes(hi, mid, size);
        swap_bytes(mid, hi - size, size); /* the pivot waits just before the end */
        char *pivot = hi - size, *i = lo, *j = pivot;
        for (;;) {
            while (cmp(i += size, pivot) < 0)
                ;
            while (cmp(j -= size, pivot) > 0)
                ;
            if (i >= j)
                break;
            swap_bytes(i, j, size);
        }
        swap_bytes(i, pivot, size);
        size_t left = (size_t)(i - a) / size, right = n - left - 1;
        if (left < right) {
            qsort(a, left, size, cmp);
            a = i + size;
            n = right;
        } else {
            qsort(i + size, right, size, cmp);
            n = left;
        }
    }
    for (size_t k = 1; k < n; k++)
        for (char *p = a + k * size; p > a && cmp(p - size, p) > 0; p -= size)
            swap_bytes(p - size, p, size);
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const char *a = base;
    while (n) {
        const char *mid = a + (n / 2) * size;
        int c = cmp(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            a = mid + size;
            n -= n / 2 + 1;
        } else {
            n /= 2;
        }
    }
    return NULL;
}

/* ---- numbers ---- */

int abs(int v)
{
    return v < 0 ? -v : v;
}

long labs(long v)
{
    return v < 0 ? -v : v;
}

long long llabs(long long v)
{
    return v < 0 ? -v : v;
}

/* rand: C's own example generator (C11 7.22.2), per guest, not per vCPU. */
static unsigned long rand_next = 1;

int rand(void)
{
    rand_next = rand_next * 1103515245 + 12345;
    return (int)((rand_next / 65536) % 32768);
}

void srand(unsigned seed)
{
    rand_next = seed;
}

void abort(void)
{
    vmcg_shutdown(VMC_SHUTDOWN_CRASH, 134); /* the status a C program gets from SIGABRT, 128 + 6 */
    exit(134);
}
