/* SPDX-License-Identifier: MIT */
/* Guest printf family: one formatter writing through a sink, for buffers and the console. */
#include "vmcall/guest.h"

struct sink {
    char *buf;    /* snprintf target, or the console staging buffer */
    size_t size;  /* capacity of buf */
    size_t len;   /* bytes stored in buf */
    size_t total; /* bytes the output would have (the return value) */
    int console;  /* flush buf to the console when full */
};

static void sink_flush(struct sink *s)
{
    if (s->console && s->len) {
        vmcg_console_write(s->buf, s->len);
        s->len = 0;
    }
}

static void put(struct sink *s, char c)
{
    s->total++;
    if (s->console) {
        if (s->len == s->size)
            sink_flush(s);
        s->buf[s->len++] = c;
    } else if (s->len + 1 < s->size) {
        s->buf[s->len++] = c;
    }
}

static void pad(struct sink *s, char c, int n)
{
    while (n-- > 0)
        put(s, c);
}

/* Emit a formatted number: digits (already reversed), sign/prefix, width, precision, flags. */
static void emit_number(struct sink *s, unsigned long long v, unsigned base, int upper, const char *prefix,
                        int width, int prec, int left, int zero)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (prec == 0 && n == 1 && tmp[0] == '0')
        n = 0; /* C: "%.0d" of 0 prints nothing */
    int plen = 0;
    while (prefix[plen])
        plen++;
    int zeros = prec > n ? prec - n : 0;
    int body = plen + zeros + n;
    if (!left && zero && prec < 0 && width > body) {
        zeros += width - body;
        body = width;
    }
    if (!left)
        pad(s, ' ', width - body);
    for (int i = 0; i < plen; i++)
        put(s, prefix[i]);
    pad(s, '0', zeros);
    while (n)
        put(s, tmp[--n]);
    if (left)
        pad(s, ' ', width - body);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(s, *fmt);
            continue;
        }
        int left = 0, zero = 0, plus = 0, space = 0, width = 0, prec = -1, lng = 0;
        for (;; fmt++) {
            if (fmt[1] == '-')
                left = 1;
            else if (fmt[1] == '0')
                zero = 1;
            else if (fmt[1] == '+')
                plus = 1;
            else if (fmt[1] == ' ')
                space = 1;
            else
                break;
        }
        fmt++;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        /* Length: -2 char, -1 short, 0 int, 1 long, 2 long long (size_t, intmax_t, ptrdiff_t). */
        for (;; fmt++) {
            if (*fmt == 'l')
                lng++;
            else if (*fmt == 'h')
                lng--;
            else if (*fmt == 'z' || *fmt == 't') /* size_t, ptrdiff_t: pointer-sized */
                lng = sizeof(size_t) == 8 ? 2 : 0;
            else if (*fmt == 'j')
                lng = 2;
            else
                break;
        }
        char conv = *fmt;
        if (!conv)
            return;
        switch (conv) {
        case 'd':
        case 'i': {
            long long v = lng <= 0 ? va_arg(ap, int) : lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
            v = lng == -1 ? (short)v : lng <= -2 ? (signed char)v : v;
            unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            const char *sign = v < 0 ? "-" : plus ? "+" : space ? " " : "";
            emit_number(s, mag, 10, 0, sign, width, prec, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng <= 0   ? va_arg(ap, unsigned)
                                   : lng == 1 ? va_arg(ap, unsigned long)
                                              : va_arg(ap, unsigned long long);
            v = lng == -1 ? (unsigned short)v : lng <= -2 ? (unsigned char)v : v;
            emit_number(s, v, conv == 'u' ? 10 : 16, conv == 'X', "", width, prec, left, zero);
            break;
        }
        case 'p':
            emit_number(s, (uintptr_t)va_arg(ap, void *), 16, 0, "0x", width, prec, left, zero);
            break;
        case 'c': {
            if (!left)
                pad(s, ' ', width - 1);
            put(s, (char)va_arg(ap, int));
            if (left)
                pad(s, ' ', width - 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int n = 0;
            while (str[n] && (prec < 0 || n < prec))
                n++;
            if (!left)
                pad(s, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(s, str[i]);
            if (left)
                pad(s, ' ', width - n);
            break;
        }
        case '%':
            put(s, '%');
            break;
        default: /* unknown conversion: print it verbatim so the mistake is visible */
            put(s, '%');
            put(s, conv);
            break;
        }
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { .buf = buf, .size = size };
    format(&s, fmt, ap);
    if (size)
        buf[s.len] = 0;
    return (int)s.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char stage[128];
    struct sink s = { .buf = stage, .size = sizeof(stage), .console = 1 };
    format(&s, fmt, ap);
    sink_flush(&s);
    return (int)s.total;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    size_t n = strlen(s);
    vmcg_console_write(s, n);
    vmcg_console_write("\n", 1);
    return (int)n + 1;
}

int putchar(int c)
{
    char ch = (char)c;
    vmcg_console_write(&ch, 1);
    return (unsigned char)c;
}
