/* SPDX-License-Identifier: MIT */
/* Minimal TAP producer for the host-side tests (run by prove). */
#ifndef VMCALL_TESTS_TAP_H
#define VMCALL_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 4, 5), unused)) static int tap_ok(int cond, const char *file, int line,
                                                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_count);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_u64(got, want, ...)                                                                               \
    do {                                                                                                     \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                                                \
        if (!ok(g_ == w_, __VA_ARGS__))                                                                      \
            printf("#   got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", g_, w_);                                   \
    } while (0)
#define is_int(got, want, ...)                                                                               \
    do {                                                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);                                             \
        if (!ok(g_ == w_, __VA_ARGS__))                                                                      \
            printf("#   got %lld, want %lld\n", g_, w_);                                                     \
    } while (0)
#define is_str(got, want, ...)                                                                               \
    do {                                                                                                     \
        const char *g_ = (got), *w_ = (want);                                                                \
        if (!ok(g_ && strcmp(g_, w_) == 0, __VA_ARGS__))                                                     \
            printf("#   got \"%s\"\n#  want \"%s\"\n", g_ ? g_ : "(null)", w_);                              \
    } while (0)

__attribute__((unused)) static int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
