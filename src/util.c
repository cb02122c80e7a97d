/* SPDX-License-Identifier: MIT */
/* Small helpers: monotonic clock, message formatting, thread-safe error messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "util.h"

/* LeakSanitizer does not look for pointers in memory mapped by the program: sanitizer builds take the
 * structures from the heap, where it does. */
void *vmc_zalloc_big(size_t size)
{
#ifdef VMC_ASAN
    return calloc(1, size);
#else
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#endif
}

void vmc_free_big(void *p, size_t size)
{
#ifdef VMC_ASAN
    (void)size;
    free(p);
#else
    if (p)
        munmap(p, size);
#endif
}

int vmc_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int e = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return -e;
}

uint64_t vmc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vmc_errf(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void vmc_error_init(struct vmc_error *e)
{
    pthread_mutex_init(&e->lock, NULL);
    e->msg[0] = 0;
}

void vmc_error_destroy(struct vmc_error *e)
{
    pthread_mutex_destroy(&e->lock);
}

int vmc_error_setf(struct vmc_error *e, bool first, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&e->lock);
    if (!first || !e->msg[0])
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    pthread_mutex_unlock(&e->lock);
    va_end(ap);
    return err;
}

void vmc_error_clear(struct vmc_error *e)
{
    pthread_mutex_lock(&e->lock);
    e->msg[0] = 0;
    pthread_mutex_unlock(&e->lock);
}

void vmc_error_copy(struct vmc_error *e, char *buf, size_t len)
{
    if (!len)
        return;
    pthread_mutex_lock(&e->lock);
    snprintf(buf, len, "%s", e->msg);
    pthread_mutex_unlock(&e->lock);
}
