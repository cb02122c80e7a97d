/* SPDX-License-Identifier: MIT */
/* Small helpers: monotonic clock, message formatting, thread-safe error messages. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

uint64_t vmc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t vmc_range_find(const void *ranges, size_t n, size_t stride, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t r[2];
        memcpy(r, (const char *)ranges + mid * stride, sizeof(r));
        if (addr < r[0])
            hi = mid;
        else if (addr - r[0] >= r[1])
            lo = mid + 1;
        else
            return mid;
    }
    return n;
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
