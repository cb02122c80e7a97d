/* SPDX-License-Identifier: MIT */
/* Guest test: the SDK's C library pieces: the heap (also from 4 vCPUs at once, and growing past boot RAM
 * with "grow"), qsort, bsearch, strings, numbers, ctype; "badfree" frees a pointer malloc never gave. */
#include "vmcall/guest.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Allocate, fill, free every other block, reallocate, check every byte: returns the bad bytes. */
static long churn(unsigned seed, int rounds)
{
    static char *blocks[4][200];
    char **b = blocks[seed % 4];
    long bad = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 200; i++) {
            size_t n = (size_t)(i * 37 + r) % 700 + 2;
            b[i] = malloc(n);
            if (!b[i])
                return -1;
            memset(b[i], (int)(seed + (unsigned)i), n);
            b[i][n - 1] = (char)(n & 0x7f);
        }
        for (int i = 0; i < 200; i += 2) {
            free(b[i]);
            b[i] = NULL;
        }
        for (int i = 1; i < 200; i += 2) {
            size_t n = (size_t)(i * 37 + r) % 700 + 2;
            bad += b[i][0] != (char)(seed + (unsigned)i) || b[i][n - 1] != (char)(n & 0x7f);
            char *q = realloc(b[i], n + 300);
            bad += !q || q[0] != (char)(seed + (unsigned)i);
            free(q);
        }
    }
    return bad;
}

static volatile long smp_bad, smp_done;
static uint8_t stacks[3][16384] __attribute__((aligned(16)));

static void churn_vcpu(void *arg)
{
    vmcg_atomic_add(&smp_bad, churn((unsigned)(uintptr_t)arg, 3));
    vmcg_atomic_add(&smp_done, 1);
}

static void heap(void)
{
    printf("malloc(0)=%d calloc zeroed=", malloc(0) != NULL);
    int *z = calloc(1000, sizeof(int));
    int zero = z != NULL;
    for (int i = 0; z && i < 1000; i++)
        zero &= z[i] == 0;
    printf("%d calloc overflow=%p malloc(huge)=%p\n", zero, calloc(SIZE_MAX / 2, 4), malloc(SIZE_MAX - 8));
    free(z);
    printf("churn: %ld bad bytes\n", churn(1, 3));
    /* The biggest block twice: everything freed merged back, nothing leaked. */
    size_t big = (size_t)vmcg_boot_info()->ram_size;
    while (big && !(z = malloc(big)))
        big -= 64 << 10;
    free(z);
    void *again = malloc(big);
    printf("largest block found again after freeing: %d (%s)\n", again != NULL,
           big > (32u << 20) ? ">32M" : "size");
    free(again);
    unsigned n = vmcg_vcpu_count();
    for (unsigned i = 1; i < n && i < 4; i++)
        VMCG_ASSERT_EQ(vmcg_vcpu_start(i, churn_vcpu, (void *)(uintptr_t)i, stacks[i - 1], sizeof(stacks[0])),
                       0);
    churn_vcpu(0);
    while (vmcg_atomic_load(&smp_done) < (long)(n < 4 ? n : 4))
        vmcg_sched_yield();
    printf("%u vCPUs churning at once: %ld bad bytes\n", n, smp_bad);
}

static void sorting(void)
{
    static int v[1000];
    srand(7);
    for (int i = 0; i < 1000; i++)
        v[i] = rand() % 500 - 250;
    qsort(v, 1000, sizeof(int), cmp_int);
    int sorted = 1;
    for (int i = 1; i < 1000; i++)
        sorted &= v[i - 1] <= v[i];
    int key = v[500], missing = 1000;
    int *hit = bsearch(&key, v, 1000, sizeof(int), cmp_int);
    printf("qsort 1000 ints sorted=%d bsearch hit=%d miss=%p\n", sorted, hit && *hit == key,
           bsearch(&missing, v, 1000, sizeof(int), cmp_int));
    const char *names[] = { "pear", "apple", "fig", "banana", "cherry" };
    qsort(names, 5, sizeof(names[0]), cmp_str);
    printf("qsort strings: %s %s %s %s %s\n", names[0], names[1], names[2], names[3], names[4]);
}

static void strings(void)
{
    char buf[64] = "alpha";
    strcat(buf, ",beta");
    strncat(buf, ",gammadelta", 6);
    char *save, *dup = strdup(buf);
    printf("strcat=%s strstr=%s strspn=%zu strcspn=%zu strpbrk=%s\n", buf, strstr(buf, "beta"),
           strspn("aaab", "a"), strcspn("abc,d", ","), strpbrk("x-y+z", "+-"));
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
        printf("[%s]", t);
    free(dup);
    printf(" strtoll=%lld strtoull=%llu atol=%ld abs=%d labs=%ld llabs=%lld\n",
           strtoll("-9000000000", NULL, 10), strtoull("0xffffffffffffffff", NULL, 0), atol("123"), abs(-5),
           labs(-6L), llabs(-7LL));
    printf("ctype: %d%d%d%d%d%d %c%c\n", isdigit('7'), isalpha('q'), isspace('\t'), isxdigit('F'),
           ispunct('!'), isalnum('-'), toupper('a'), tolower('Z'));
}

/* grow: 12 MiB in a VM of 4 MiB whose limit is higher: the heap takes the rest from the hot-add window. */
static int grow(void)
{
    char *p = malloc(12u << 20);
    if (p)
        memset(p, 0x5a, 12u << 20);
    printf("12 MiB in a 4 MiB VM: %s\n", p ? "allocated and written" : "NULL");
    return p ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "grow"))
        return grow();
    if (argc > 1 && !strcmp(argv[1], "badfree")) {
        int x;
        free(&x);
        return 0;
    }
    heap();
    sorting();
    strings();
    return 0;
}
