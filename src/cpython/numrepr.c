/*
 * numrepr.c - Python's repr() of ints and floats, computed here (see
 * numrepr.h).
 *
 * Floats: Python writes the shortest digit string that reads back as the
 * same double (and of those, the nearest), in fixed notation when the
 * decimal point falls within 16 places of the first digit and after the
 * 4th place behind it, else with an exponent of at least two digits. The
 * digits are found by asking printf for 1, 2, ... 17 correctly rounded
 * significant digits until strtod gives the double back; where a double is
 * a power of two its lower neighbour is closer than its upper one, so the
 * nearest p-digit string can miss while one next to it reads back: both
 * neighbours are tried at each p as well.
 */
#include "numrepr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 1000000000u          /* decimal digits come out 9 at a time */
#define LONG_WORK_MAX 4096         /* digits of an int converted at most   */

size_t ft_long_decimal(const uint32_t *digits, size_t n, unsigned shift, int negative, char *out,
                       size_t outsize)
{
    uint32_t work[LONG_WORK_MAX];
    uint32_t chunks[LONG_WORK_MAX * 31 / 29 + 2]; /* base 10^9 needs < 30 bits a chunk */
    size_t nchunks = 0;
    if (outsize == 0)
        return (size_t)-1;
    out[0] = '\0';
    if (n > LONG_WORK_MAX || shift == 0 || shift > 31)
        return (size_t)-1;
    while (n && !digits[n - 1])
        n--;
    memcpy(work, digits, n * sizeof *work);
    /* Long division of the whole number by 10^9, most significant digit
     * first; the remainders are the base-10^9 chunks, least first. */
    while (n) {
        uint64_t rem = 0;
        for (size_t i = n; i-- > 0;) {
            uint64_t cur = (rem << shift) | work[i];
            work[i] = (uint32_t)(cur / CHUNK);
            rem = cur % CHUNK;
        }
        chunks[nchunks++] = (uint32_t)rem;
        while (n && !work[n - 1])
            n--;
    }
    size_t len = 0;
    char buf[16];
    int wrote = 0;
    if (negative && nchunks) {
        if (outsize < 2)
            return (size_t)-1;
        out[len++] = '-';
    }
    if (!nchunks) {
        if (outsize < 2)
            return (size_t)-1;
        out[len++] = '0';
    }
    for (size_t i = nchunks; i-- > 0;) {
        wrote = snprintf(buf, sizeof buf, i == nchunks - 1 ? "%u" : "%09u", chunks[i]);
        if (len + (size_t)wrote + 1 > outsize) {
            out[0] = '\0';
            return (size_t)-1;
        }
        memcpy(out + len, buf, (size_t)wrote);
        len += (size_t)wrote;
    }
    out[len] = '\0';
    return len;
}

/* Significant digits (without trailing zeros) and the exponent of the
 * first one, from printf's "d.ddde+XX". */
struct sci {
    char digits[24];
    int ndigits, exp;
};

static void parse_sci(const char *s, struct sci *d)
{
    d->ndigits = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && d->ndigits < (int)sizeof d->digits - 1)
            d->digits[d->ndigits++] = *s;
    d->exp = *s == 'e' ? atoi(s + 1) : 0;
    while (d->ndigits > 1 && d->digits[d->ndigits - 1] == '0')
        d->ndigits--;
    d->digits[d->ndigits] = '\0';
}

/* Writes d (p significant digits, exponent exp) for strtod. */
static void sci_string(const char *digits, int p, int exp, char *out, size_t size)
{
    snprintf(out, size, "%c.%.*se%d", digits[0], p - 1, digits + 1, exp);
}

/* digits (p of them, exponent *exp) moved by one unit in the last place:
 * up (+1) or down (-1). 0 when that leaves p-digit strings. */
static int step(char *digits, int p, int *exp, int dir)
{
    int i = p - 1;
    if (dir > 0) {
        while (i >= 0 && digits[i] == '9')
            digits[i--] = '0';
        if (i < 0) { /* 999 -> 1000: one more digit, exponent up */
            digits[0] = '1';
            (*exp)++;
            return 1;
        }
        digits[i]++;
        return 1;
    }
    while (i >= 0 && digits[i] == '0')
        digits[i--] = '9';
    if (i < 0)
        return 0;
    digits[i]--;
    if (digits[0] == '0') { /* 1000 -> 0999: one digit less, exponent down */
        if (p == 1)
            return 0;
        memmove(digits, digits + 1, (size_t)p - 1);
        digits[p - 1] = '9';
        (*exp)--;
    }
    return 1;
}

static int reads_back(const char *digits, int p, int exp, double v)
{
    char s[48];
    sci_string(digits, p, exp, s, sizeof s);
    return strtod(s, NULL) == v;
}

/* The shortest digits that read back as v (v finite, > 0). */
static void shortest(double v, struct sci *d)
{
    char s[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, v);
        struct sci near;
        parse_sci(s, &near);
        char full[24];
        int exp = near.exp;
        /* The nearest p digits, trailing zeros kept for stepping. */
        snprintf(full, sizeof full, "%s", near.digits);
        for (int i = near.ndigits; i < p; i++)
            full[i] = '0';
        full[p] = '\0';
        if (strtod(s, NULL) == v) {
            *d = near;
            return;
        }
        for (int dir = -1; dir <= 1; dir += 2) {
            char c[24];
            int e = exp;
            memcpy(c, full, sizeof c);
            if (step(c, p, &e, dir) && reads_back(c, p, e, v)) {
                sci_string(c, p, e, s, sizeof s);
                parse_sci(s, d);
                return;
            }
        }
    }
    snprintf(s, sizeof s, "%.16e", v);
    parse_sci(s, d);
}

void ft_float_repr(double v, char *out)
{
    if (isnan(v)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v < 0 ? "-inf" : "inf");
        return;
    }
    char *o = out;
    if (signbit(v)) {
        *o++ = '-';
        v = -v;
    }
    struct sci d;
    if (v == 0) {
        strcpy(o, "0.0");
        return;
    }
    shortest(v, &d);
    int decpt = d.exp + 1; /* digits are 0.d1d2... x 10^decpt */
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            o += sprintf(o, "0.");
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            strcpy(o, d.digits);
        } else if (decpt >= d.ndigits) {
            o += sprintf(o, "%s", d.digits);
            for (int i = d.ndigits; i < decpt; i++)
                *o++ = '0';
            strcpy(o, ".0");
        } else {
            sprintf(o, "%.*s.%s", decpt, d.digits, d.digits + decpt);
        }
        return;
    }
    *o++ = d.digits[0];
    if (d.ndigits > 1)
        o += sprintf(o, ".%s", d.digits + 1);
    sprintf(o, "e%c%02d", d.exp < 0 ? '-' : '+', d.exp < 0 ? -d.exp : d.exp);
}
