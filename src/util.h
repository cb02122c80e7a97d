/* SPDX-License-Identifier: MIT */
/* Small helpers every module may use: array sizes, relaxed statistics, clocks, thread-safe error messages. */
#ifndef VMCALL_SRC_UTIL_H
#define VMCALL_SRC_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VMC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VMC_MIN(a, b) ((a) < (b) ? (a) : (b))

/*
 * Statistics: each counter has one writer (its vCPU's thread) or is shared; either way it is read by
 * other threads while it changes, so every access is a relaxed atomic (no lock on the exit path).
 */
#define STAT_ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define STAT_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

uint64_t vmc_now_ns(void);
/* A condition variable whose deadlines are vmc_now_ns() times (CLOCK_MONOTONIC); -errno on failure. */
int vmc_cond_init(pthread_cond_t *c);

/* idx if idx < size, else 0, computed without a branch the CPU could mispredict and run ahead on with an
 * out-of-range index (Linux's array_index_mask_nospec). size must be at most 2^32. */
static inline uint32_t vmc_index_nospec(uint32_t idx, uint64_t size)
{
    uint64_t mask = (uint64_t)(~(int64_t)(idx | (size - 1ull - idx)) >> 63);
    __asm__("" : "+r"(mask)); /* keep the compiler from turning this back into a branch */
    return idx & (uint32_t)mask;
}

/* VMC_ASAN: an AddressSanitizer build (gcc says so one way, clang another). */
#if defined(__SANITIZE_ADDRESS__)
#define VMC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMC_ASAN 1
#endif
#endif

/* Zeroed memory straight from the kernel, for the big per-VM structures: pages nobody writes are never
 * touched (calloc would clear them one page fault at a time). NULL on failure; free with vmc_free_big. */
void *vmc_zalloc_big(size_t size);
void vmc_free_big(void *p, size_t size);
/* Format into buf (NULL or len 0: nothing), like snprintf. */
void vmc_errf(char *buf, size_t len, const char *fmt, ...) VMC_PRINTF(3, 4);

/*
 * The last error of an object, written by whichever thread failed (a vCPU thread, the caller's) and read
 * by the caller: a mutex guards the text, and readers get a copy.
 */
#define VMC_ERR_MAX 256
struct vmc_error {
    pthread_mutex_t lock;
    char msg[VMC_ERR_MAX];
};
void vmc_error_init(struct vmc_error *e);
void vmc_error_destroy(struct vmc_error *e);
/* Record a message (first: only if nothing is recorded yet, as the first failure is the one worth
 * reporting); returns err (a negative errno) for tail calls. */
int vmc_error_setf(struct vmc_error *e, bool first, int err, const char *fmt, ...) VMC_PRINTF(4, 5);
#define vmc_error_set(e, err, ...) vmc_error_setf((e), false, (err), __VA_ARGS__)
#define vmc_error_set_first(e, err, ...) vmc_error_setf((e), true, (err), __VA_ARGS__)
void vmc_error_clear(struct vmc_error *e);
/* Copy the message into buf (always NUL-terminated). */
void vmc_error_copy(struct vmc_error *e, char *buf, size_t len);

#endif /* VMCALL_SRC_UTIL_H */
