/* SPDX-License-Identifier: MIT */
/* The SDK's formatter, shared by printf.c and the floating-point conversions in printf_float.c. */
#ifndef VMCALL_GUEST_PRINTF_H
#define VMCALL_GUEST_PRINTF_H

#include "vmcall/guest.h"

struct vmcg_sink {
    char *buf;    /* snprintf target, or the console staging buffer */
    size_t size;  /* capacity of buf */
    size_t len;   /* bytes stored in buf */
    size_t total; /* bytes the output would have (the return value) */
    int console;  /* flush buf to the console when full */
};

/* One conversion specification, as parsed: flags, width, precision (-1: none), length, conversion. */
struct vmcg_spec {
    bool left, zero, plus, space, alt, long_double;
    int width, prec, length;
    char conv;
};

void vmcg_put(struct vmcg_sink *s, char c);
void vmcg_pad(struct vmcg_sink *s, char c, int n);
void vmcg_emit(struct vmcg_sink *s, const struct vmcg_spec *f, const char *prefix, const char *body, int n,
               int zeros);
/* f e g a (and capitals), consuming a double (a long double with L, printed at double precision). */
void vmcg_format_float(struct vmcg_sink *s, struct vmcg_spec *f, va_list *ap);

#endif /* VMCALL_GUEST_PRINTF_H */
