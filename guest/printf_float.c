/* SPDX-License-Identifier: MIT */
/* printf's floating-point conversions (f e g a), exact: digits come from the value's bits with big
 * integers, rounded half to even as glibc does. Integer code only, so kernel-mode builds have them too. */
#include "printf.h"

#define PREC_MAX 500 /* digits after the point at most; more are not printed */
#define BODY_MAX (320 + PREC_MAX + 16)

/* A finite non-negative double, exactly: its integer digits, and its fraction as fr / 2^(32 * nfr). */
struct dec {
    char ip[320];
    int nip, next;   /* integer digits, most significant first; the next one to hand out */
    uint32_t fr[36]; /* fraction words, least significant first */
    int nfr;
};

/* Integer digits of the big number w[0..n) (least significant word first), consumed. */
static int big_to_decimal(uint32_t *w, int n, char *out)
{
    char rev[320];
    int k = 0;
    while (n > 0) {
        uint64_t rem = 0;
        for (int i = n - 1; i >= 0; i--) { /* divide by 10^9, keep the remainder */
            uint64_t cur = (rem << 32) | w[i];
            w[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (n > 0 && w[n - 1] == 0)
            n--;
        for (int d = 0; d < 9 && (n > 0 || rem); d++, rem /= 10)
            rev[k++] = (char)('0' + rem % 10);
    }
    for (int i = 0; i < k; i++)
        out[i] = rev[k - 1 - i];
    return k;
}

/* Place the 64-bit value v shifted left by `shift` bits into w (zeroed, big enough). */
static void put_shifted(uint32_t *w, uint64_t v, int shift)
{
    int word = shift / 32, bit = shift % 32;
    uint64_t lo = v << bit, hi = bit ? v >> (64 - bit) : 0;
    w[word] |= (uint32_t)lo;
    w[word + 1] |= (uint32_t)(lo >> 32);
    w[word + 2] |= (uint32_t)hi;
}

static void dec_init(struct dec *d, uint64_t bits)
{
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    int e = be ? be - 1075 : -1074; /* v = m * 2^e */
    if (be)
        m |= 1ull << 52;
    memset(d, 0, sizeof(*d));
    uint32_t w[36] = { 0 };
    if (e >= 0) {
        put_shifted(w, m, e);
        d->nip = big_to_decimal(w, 36, d->ip);
        return;
    }
    int fbits = -e;
    uint64_t ipart = fbits >= 64 ? 0 : m >> fbits, fpart = fbits >= 64 ? m : m & ((1ull << fbits) - 1);
    w[0] = (uint32_t)ipart, w[1] = (uint32_t)(ipart >> 32);
    d->nip = big_to_decimal(w, 2, d->ip);
    d->nfr = (fbits + 31) / 32;
    put_shifted(d->fr, fpart, 32 * d->nfr - fbits);
}

/* The next digit: integer digits first, then the fraction's, one multiplication by 10 each. */
static int dec_next(struct dec *d)
{
    if (d->next < d->nip)
        return d->ip[d->next++] - '0';
    uint64_t carry = 0;
    for (int i = 0; i < d->nfr; i++) {
        uint64_t x = (uint64_t)d->fr[i] * 10 + carry;
        d->fr[i] = (uint32_t)x;
        carry = x >> 32;
    }
    return (int)carry;
}

/* Is anything left after the digits handed out so far? */
static bool dec_rest(const struct dec *d)
{
    for (int i = d->next; i < d->nip; i++)
        if (d->ip[i] != '0')
            return true;
    for (int i = 0; i < d->nfr; i++)
        if (d->fr[i])
            return true;
    return false;
}

/* Round the digit string buf[0..n) by the next digit and whether more follows, half to even; returns 1
 * when the carry ran out of the string (buf becomes 1000...: the caller shifts). */
static int round_digits(char *buf, int n, int next, bool rest)
{
    bool up = next > 5 || (next == 5 && (rest || (n > 0 && (buf[n - 1] - '0') % 2)));
    for (int i = n - 1; up && i >= 0; i--) {
        if (buf[i] != '9') {
            buf[i]++;
            return 0;
        }
        buf[i] = '0';
    }
    if (up && n > 0)
        buf[0] = '1';
    return up;
}

/* Fixed: integer digits, then prec fraction digits; *nint gets how many are before the point. */
static int fixed_digits(uint64_t v, int prec, char *buf, int *nint)
{
    struct dec d;
    dec_init(&d, v);
    int n = 0, ni = d.nip ? d.nip : 1;
    if (!d.nip)
        buf[n++] = '0';
    for (int i = 0; i < d.nip + prec; i++)
        buf[n++] = (char)('0' + dec_next(&d));
    int next = dec_next(&d);
    if (round_digits(buf, n, next, dec_rest(&d))) {
        buf[n++] = '0'; /* 99.9 -> "100" became "10" + one more digit: 100.0 */
        ni++;
    }
    *nint = ni;
    return n;
}

/* Scientific: prec + 1 significant digits and the decimal exponent of the first. */
static int sci_digits(uint64_t v, int prec, char *buf, int *exp10)
{
    struct dec d;
    dec_init(&d, v);
    int x = d.nip ? d.nip - 1 : -1, c = 0;
    if (v == 0) { /* +0 (the sign was taken off) */
        memset(buf, '0', (size_t)prec + 1);
        *exp10 = 0;
        return prec + 1;
    }
    while ((c = dec_next(&d)) == 0)
        x--; /* leading zeros: only past the point (integer digits have none) */
    int n = 0;
    buf[n++] = (char)('0' + c);
    for (int i = 0; i < prec; i++)
        buf[n++] = (char)('0' + dec_next(&d));
    int next = dec_next(&d);
    if (round_digits(buf, n, next, dec_rest(&d)))
        x++; /* 9.99 -> 10.0: still n digits "100", one more in the exponent */
    *exp10 = x;
    return n;
}

/* e+05 for %e (two digits at least, C99), p+5 for %a (one). */
static int put_exp(char *p, int x, char e)
{
    int n = 0;
    p[n++] = e;
    p[n++] = x < 0 ? '-' : '+';
    unsigned u = (unsigned)(x < 0 ? -x : x);
    char t[6];
    int k = 0;
    do
        t[k++] = (char)('0' + u % 10);
    while (u /= 10);
    if (k < 2 && e != 'p' && e != 'P')
        t[k++] = '0';
    while (k)
        p[n++] = t[--k];
    return n;
}

/* digits[0..n) with the point after nint of them (nint may exceed n: trailing zeros). */
static int place_point(char *out, const char *digits, int n, int nint, bool point)
{
    int k = 0;
    for (int i = 0; i < nint; i++)
        out[k++] = i < n ? digits[i] : '0';
    if (point)
        out[k++] = '.';
    for (int i = nint; i < n; i++)
        out[k++] = digits[i];
    return k;
}

static int strip_zeros(char *body, int n, bool keep)
{
    bool dot = false;
    for (int i = 0; i < n; i++)
        dot |= body[i] == '.';
    if (keep || !dot)
        return n;
    int e = n;
    for (int i = 0; i < n; i++)
        if (body[i] == 'e' || body[i] == 'E')
            e = i;
    int end = e;
    while (end > 0 && body[end - 1] == '0')
        end--;
    if (end > 0 && body[end - 1] == '.')
        end--;
    memmove(body + end, body + e, (size_t)(n - e));
    return end + (n - e);
}

static int conv_e(uint64_t v, int prec, bool alt, bool upper, char *body)
{
    char dig[PREC_MAX + 2];
    int x, n = sci_digits(v, prec, dig, &x);
    int k = place_point(body, dig, n, 1, prec > 0 || alt);
    return k + put_exp(body + k, x, upper ? 'E' : 'e');
}

static int conv_f(uint64_t v, int prec, bool alt, char *body)
{
    char dig[BODY_MAX];
    int nint, n = fixed_digits(v, prec, dig, &nint);
    return place_point(body, dig, n, nint, prec > 0 || alt);
}

/* %g: precision P significant digits; %e style when the exponent is below -4 or at least P (C99). */
static int conv_g(uint64_t v, int prec, bool alt, bool upper, char *body)
{
    int p = prec < 0 ? 6 : prec == 0 ? 1 : prec;
    char dig[PREC_MAX + 2];
    int x;
    sci_digits(v, p - 1, dig, &x);
    int n = (x < p && x >= -4) ? conv_f(v, p - 1 - x, alt, body) : conv_e(v, p - 1, alt, upper, body);
    return strip_zeros(body, n, alt);
}

/* %a: 1.hhhhp+d (0.hhh for subnormals), 13 hex digits unless a precision rounds them (half to even). */
static int conv_a(uint64_t bits, int prec, bool alt, bool upper, char *body)
{
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    int lead = be != 0, x = bits == 0 ? 0 : be ? be - 1023 : -1022;
    if (prec >= 0 && prec < 13) {
        int drop = 4 * (13 - prec);
        uint64_t rest = m & ((1ull << drop) - 1), half = 1ull << (drop - 1);
        m >>= drop;
        if (rest > half ||
            (rest == half && ((prec ? m : (uint64_t)lead) & 1))) /* to even: the last digit kept */
            m++;
        if (m >> (4 * prec)) { /* 1.f...f rounded up to 2.0 */
            m &= (1ull << (4 * prec)) - 1;
            lead++;
        }
    }
    int nd = prec >= 0 ? prec : 13;
    if (prec < 0)
        while (nd > 0 && !((m >> (4 * (13 - nd))) & 0xf))
            nd--;
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int k = 0, shift = prec >= 0 && prec < 13 ? 4 * prec : 52;
    body[k++] = (char)('0' + lead);
    if (nd > 0 || alt)
        body[k++] = '.';
    for (int i = 0; i < nd; i++)
        body[k++] = i < 13 ? hex[(m >> (shift - 4 * (i + 1))) & 0xf] : '0';
    return k + put_exp(body + k, x, upper ? 'P' : 'p');
}

#ifndef VMCG_USER_MODE
/* An x87 extended value (64-bit mantissa with its integer bit, 15-bit exponent) as double bits, rounded
 * to nearest, ties to even; the conversions then print the double. (User-mode builds let the FPU do it.) */
static uint64_t extended_to_double(uint64_t m, unsigned se)
{
    uint64_t sign = (uint64_t)(se >> 15) << 63;
    int e = (int)(se & 0x7fff);
    if (e == 0x7fff)
        return sign | 0x7ff0000000000000ull | (m << 1 ? 1ull << 51 : 0); /* inf, or a quiet NaN */
    if (m == 0)
        return sign;
    while (!(m >> 63)) { /* denormal or unnormal: normalise */
        m <<= 1;
        e--;
    }
    int x = e - 16383; /* value = 1.m * 2^x */
    if (x > 1023)
        return sign | 0x7ff0000000000000ull;
    int keep = x >= -1022 ? 53 : 53 - (-1022 - x); /* significant bits a double keeps at that size */
    if (keep <= 0)
        return keep == 0 && m > (1ull << 63) ? sign | 1 : sign; /* below half the smallest: zero */
    int drop = 64 - keep;
    uint64_t q = m >> drop, rest = m & ((1ull << drop) - 1), half = 1ull << (drop - 1);
    if (rest > half || (rest == half && (q & 1)))
        q++;
    if (x >= -1022) {
        if (q >> 53) { /* rounded up to the next power of two */
            q >>= 1;
            x++;
        }
        if (x > 1023)
            return sign | 0x7ff0000000000000ull;
        return sign | ((uint64_t)(x + 1023) << 52) | (q & ((1ull << 52) - 1));
    }
    return sign | q; /* subnormal (q may have rounded up into the smallest normal: same bits) */
}
#endif

/*
 * The argument's bits. User-mode SDK builds (VMCG_USER_MODE) take it as C does. Kernel-mode builds cannot
 * name a double in va_arg (-mgeneral-regs-only), and their callers, with no SSE registers to pass it in,
 * put it in memory, where a variadic callee finds it in va_list's overflow area (SysV x86-64 psABI,
 * 3.5.7: gp_offset, fp_offset, overflow_arg_area, reg_save_area). 32-bit callers pass everything on the
 * stack.
 */
static uint64_t float_arg(va_list *ap, bool long_double)
{
#if defined(VMCG_USER_MODE)
    double d = long_double ? (double)va_arg(*ap, long double) : va_arg(*ap, double);
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
#elif defined(__x86_64__)
    struct psabi_va {
        unsigned gp_offset, fp_offset;
        char *overflow_arg_area, *reg_save_area;
    } *va = (struct psabi_va *)*ap;
    uint64_t w[2] = { 0, 0 };
    if (long_double)
        va->overflow_arg_area = (char *)(((uintptr_t)va->overflow_arg_area + 15) & ~(uintptr_t)15);
    memcpy(w, va->overflow_arg_area, long_double ? 10 : 8);
    va->overflow_arg_area += long_double ? 16 : 8;
    return long_double ? extended_to_double(w[0], (unsigned)(w[1] & 0xffff)) : w[0];
#else
    if (long_double) {
        struct ext {
            uint32_t w[3];
        } x = va_arg(*ap, struct ext);
        return extended_to_double(((uint64_t)x.w[1] << 32) | x.w[0], x.w[2] & 0xffff);
    }
    return va_arg(*ap, unsigned long long);
#endif
}

void vmcg_format_float(struct vmcg_sink *s, struct vmcg_spec *f, va_list *ap)
{
    uint64_t v = float_arg(ap, f->long_double);
    char c = f->conv;
    bool upper = c == 'F' || c == 'E' || c == 'G' || c == 'A';
    bool neg = v >> 63;
    const char *sign = neg ? "-" : f->plus ? "+" : f->space ? " " : "";
    char body[BODY_MAX];
    int n;
    v &= ~(1ull << 63);
    if ((v >> 52) == 0x7ff) { /* infinity, or NaN when the mantissa is not zero */
        bool nan = v << 12;
        memcpy(body, nan ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"), 3);
        f->zero = false;
        vmcg_emit(s, f, sign, body, 3, 0);
        return;
    }
    int prec = f->prec > PREC_MAX ? PREC_MAX : f->prec;
    if (c == 'a' || c == 'A') {
        char pre[4] = { sign[0], '0', upper ? 'X' : 'x', 0 };
        n = conv_a(v, prec, f->alt, upper, body);
        vmcg_emit(s, f, sign[0] ? pre : pre + 1, body, n, 0);
        return;
    }
    if (c == 'f' || c == 'F')
        n = conv_f(v, prec < 0 ? 6 : prec, f->alt, body);
    else if (c == 'e' || c == 'E')
        n = conv_e(v, prec < 0 ? 6 : prec, f->alt, upper, body);
    else
        n = conv_g(v, prec, f->alt, upper, body);
    vmcg_emit(s, f, sign, body, n, 0);
}
