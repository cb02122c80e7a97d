/* SPDX-License-Identifier: MIT */
/* Linux-personality test: memory beyond the VM's is ENOMEM, never a host allocation; mappings work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
    void *big = malloc(1ul << 30);
    printf("malloc 1 GiB: %s\n", big ? "got it" : "NULL");
    errno = 0;
    void *m = mmap(NULL, 1ul << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 1 GiB: %s %s\n", m == MAP_FAILED ? "failed" : "mapped", strerror(errno));
    size_t total = 0;
    void *chunks[64];
    int n = 0;
    for (; n < 64; n++) {
        chunks[n] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (chunks[n] == MAP_FAILED)
            break;
        memset(chunks[n], 0xab, 1 << 20);
        total += 1 << 20;
    }
    printf("1 MiB mappings until ENOMEM: %s\n", n > 8 && n < 64 ? "some, then none" : "UNEXPECTED");
    for (int i = 0; i < n; i++)
        munmap(chunks[i], 1 << 20);
    unsigned char *again = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int zero = again != MAP_FAILED;
    for (int i = 0; zero && i < 1 << 20; i++)
        zero &= again[i] == 0;
    printf("after munmap, a new mapping reads zero: %s\n", zero ? "yes" : "NO");
    (void)total;
    return 0;
}
