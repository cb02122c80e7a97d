/* SPDX-License-Identifier: MIT */
/* Guest printf family: C99 conversions through one formatter, for buffers and the console. */
#include "printf.h"

static void sink_flush(struct vmcg_sink *s)
{
    if (s->console && s->len) {
        vmcg_console_write(s->buf, s->len);
        s->len = 0;
    }
}

void vmcg_put(struct vmcg_sink *s, char c)
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

/* n bytes at once: copies, not a call per byte (each instruction counts at an emulated CPL0). */
static void put_run(struct vmcg_sink *s, const char *p, size_t n)
{
    s->total += n;
    while (n) {
        size_t room = s->console ? s->size - s->len : s->size > s->len + 1 ? s->size - s->len - 1 : 0;
        if (!room) {
            if (!s->console)
                return; /* snprintf: the rest only counts */
            sink_flush(s);
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        p += k;
        n -= k;
    }
}

void vmcg_pad(struct vmcg_sink *s, char c, int n)
{
    while (n-- > 0)
        vmcg_put(s, c);
}

/* A converted field: sign or prefix, zeros, the digits, padded to the width as the flags say. */
void vmcg_emit(struct vmcg_sink *s, const struct vmcg_spec *f, const char *prefix, const char *body, int n,
               int zeros)
{
    int plen = (int)strlen(prefix);
    int len = plen + zeros + n;
    if (!f->left && f->zero && len < f->width) {
        zeros += f->width - len;
        len = f->width;
    }
    if (!f->left)
        vmcg_pad(s, ' ', f->width - len);
    for (int i = 0; i < plen; i++)
        vmcg_put(s, prefix[i]);
    vmcg_pad(s, '0', zeros);
    put_run(s, body, (size_t)n);
    if (f->left)
        vmcg_pad(s, ' ', f->width - len);
}

/* An integer conversion (d i o u x X p): C99 7.19.6.1 on precision, '#', '0' and signs. */
static void integer(struct vmcg_sink *s, struct vmcg_spec *f, unsigned long long v, bool negative)
{
    char tmp[24];
    int n = 0, base = f->conv == 'o' ? 8 : f->conv == 'x' || f->conv == 'X' || f->conv == 'p' ? 16 : 10;
    const char *digits = f->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    for (unsigned long long x = v; x; x /= (unsigned)base)
        tmp[n++] = digits[x % (unsigned)base];
    char body[24];
    for (int i = 0; i < n; i++)
        body[i] = tmp[n - 1 - i];
    int prec = f->prec < 0 ? 1 : f->prec;
    if (f->prec >= 0)
        f->zero = false; /* a precision overrides the 0 flag for integers */
    int zeros = prec > n ? prec - n : 0;
    if (f->alt && base == 8 && zeros == 0 && (n == 0 || body[0] != '0'))
        zeros = 1; /* "%#o": the first digit is a zero */
    const char *prefix = negative ? "-" : f->conv == 'p' ? "0x" : f->plus ? "+" : f->space ? " " : "";
    if (f->conv == 'u' || f->conv == 'o' || f->conv == 'x' || f->conv == 'X')
        prefix = f->alt && v && base == 16 ? (f->conv == 'X' ? "0X" : "0x") : "";
    vmcg_emit(s, f, prefix, body, n, zeros);
}

static void string(struct vmcg_sink *s, const struct vmcg_spec *f, const char *str)
{
    if (!str)
        str = "(null)";
    int n = (int)(f->prec < 0 ? strlen(str) : strnlen(str, (size_t)f->prec));
    struct vmcg_spec g = *f;
    g.zero = false;
    vmcg_emit(s, &g, "", str, n, 0);
}

/* Flags, width, precision and length of the conversion at fmt (just past '%'); returns its end. */
static const char *parse_spec(const char *fmt, va_list *ap, struct vmcg_spec *f)
{
    *f = (struct vmcg_spec){ .prec = -1 };
    for (;; fmt++) {
        if (*fmt == '-')
            f->left = true;
        else if (*fmt == '0')
            f->zero = true;
        else if (*fmt == '+')
            f->plus = true;
        else if (*fmt == ' ')
            f->space = true;
        else if (*fmt == '#')
            f->alt = true;
        else
            break;
    }
    if (*fmt == '*') {
        f->width = va_arg(*ap, int);
        if (f->width < 0) {
            f->left = true;
            f->width = -f->width;
        }
        fmt++;
    } else {
        while (*fmt >= '0' && *fmt <= '9')
            f->width = f->width * 10 + (*fmt++ - '0');
    }
    if (*fmt == '.') {
        fmt++;
        f->prec = 0;
        if (*fmt == '*') {
            f->prec = va_arg(*ap, int);
            if (f->prec < 0)
                f->prec = -1; /* a negative precision is taken as if omitted */
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                f->prec = f->prec * 10 + (*fmt++ - '0');
        }
    }
    /* Length: -2 char, -1 short, 0 int, 1 long, 2 long long (size_t, intmax_t, ptrdiff_t); L long double. */
    for (;; fmt++) {
        if (*fmt == 'l')
            f->length++;
        else if (*fmt == 'h')
            f->length--;
        else if (*fmt == 'z' || *fmt == 't')
            f->length = sizeof(size_t) == 8 ? 2 : 0;
        else if (*fmt == 'j')
            f->length = 2;
        else if (*fmt == 'L')
            f->long_double = true;
        else
            break;
    }
    f->conv = *fmt;
    return fmt;
}

static long long signed_arg(va_list *ap, int length)
{
    long long v = length <= 0 ? va_arg(*ap, int) : length == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
    return length == -1 ? (short)v : length <= -2 ? (signed char)v : v;
}

static unsigned long long unsigned_arg(va_list *ap, int length)
{
    unsigned long long v = length <= 0   ? va_arg(*ap, unsigned)
                           : length == 1 ? va_arg(*ap, unsigned long)
                                         : va_arg(*ap, unsigned long long);
    return length == -1 ? (unsigned short)v : length <= -2 ? (unsigned char)v : v;
}

/* %n: the count so far, stored at the pointer of the size the length says. */
static void store_count(va_list *ap, int length, size_t total)
{
    void *p = va_arg(*ap, void *);
    if (length <= -2)
        *(signed char *)p = (signed char)total;
    else if (length == -1)
        *(short *)p = (short)total;
    else if (length == 0)
        *(int *)p = (int)total;
    else if (length == 1)
        *(long *)p = (long)total;
    else
        *(long long *)p = (long long)total;
}

/* One conversion; every one consumes exactly the arguments C gives it, supported or not here. */
static void convert(struct vmcg_sink *s, struct vmcg_spec *f, va_list *ap)
{
    switch (f->conv) {
    case 'd':
    case 'i': {
        long long v = signed_arg(ap, f->length);
        integer(s, f, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, v < 0);
        break;
    }
    case 'o':
    case 'u':
    case 'x':
    case 'X':
        integer(s, f, unsigned_arg(ap, f->length), false);
        break;
    case 'p':
        integer(s, f, (uintptr_t)va_arg(*ap, void *), false);
        break;
    case 'c': {
        char c = (char)va_arg(*ap, int); /* %lc: a wint_t, promoted to int all the same */
        f->zero = false;
        vmcg_emit(s, f, "", &c, 1, 0);
        break;
    }
    case 's':
        string(s, f, va_arg(*ap, const char *));
        break;
    case 'n':
        store_count(ap, f->length, s->total);
        break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        vmcg_format_float(s, f, ap);
        break;
    case '%':
        vmcg_put(s, '%');
        break;
    default: /* not a C conversion (gcc's format check says so at compile time): shown as written */
        vmcg_put(s, '%');
        vmcg_put(s, f->conv);
        break;
    }
}

static void format(struct vmcg_sink *s, const char *fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            size_t left = strlen(fmt); /* the literal run up to the next conversion, copied at once */
            const char *pct = memchr(fmt, '%', left);
            size_t run = pct ? (size_t)(pct - fmt) : left;
            put_run(s, fmt, run);
            fmt += run - 1;
            continue;
        }
        struct vmcg_spec f;
        fmt = parse_spec(fmt + 1, &args, &f);
        if (!f.conv)
            break;
        convert(s, &f, &args);
    }
    va_end(args);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct vmcg_sink s = { .buf = buf, .size = size };
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
    struct vmcg_sink s = { .buf = stage, .size = sizeof(stage), .console = 1 };
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
