/*
 * strrepr.c - repr() of str and bytes, one character at a time (see
 * strrepr.h).
 */
#include "strrepr.h"

#include <stdio.h>
#include <string.h>

uint32_t ft_repr_unit(int kind, const void *units, size_t i)
{
    const unsigned char *b = units;
    if (kind == 1)
        return b[i];
    if (kind == 2) {
        uint16_t v;
        memcpy(&v, b + 2 * i, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, b + 4 * i, 4);
    return v;
}

char ft_repr_quote_units(int kind, const void *units, size_t n)
{
    int single = 0, dbl = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = ft_repr_unit(kind, units, i);
        single |= c == '\'';
        dbl |= c == '"';
    }
    return single && !dbl ? '"' : '\'';
}

char ft_repr_quote_bytes(const unsigned char *b, size_t n)
{
    return memchr(b, '\'', n) && !memchr(b, '"', n) ? '"' : '\'';
}

/* Ranges of code points Python escapes in repr (categories Cc, Cf, Cs,
 * Co, Zl, Zp, Zs but the space, and noncharacters), sorted. */
static const uint32_t hidden[][2] = {
    {0x0000, 0x001F},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},   {0x0600, 0x0605},
    {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},
    {0x08E2, 0x08E2},   {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
    {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xD800, 0xF8FF},   {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},
    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

int ft_repr_printable(uint32_t cp)
{
    if (cp > 0x10FFFF || (cp & 0xFFFE) == 0xFFFE) /* U+xxFFFE, U+xxFFFF: noncharacters */
        return 0;
    size_t lo = 0, hi = sizeof hidden / sizeof hidden[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < hidden[mid][0])
            hi = mid;
        else if (cp > hidden[mid][1])
            lo = mid + 1;
        else
            return 0;
    }
    return 1;
}

static size_t simple_escape(uint32_t c, char quote, char *out)
{
    const char *e = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : NULL;
    if (e)
        return (size_t)sprintf(out, "%s", e);
    if (c == (uint32_t)(unsigned char)quote)
        return (size_t)sprintf(out, "\\%c", quote);
    return 0;
}

static size_t utf8(uint32_t c, char *out)
{
    size_t n;
    if (c < 0x80) {
        out[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | c >> 18);
        out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    out[n] = '\0';
    return n;
}

size_t ft_repr_char(uint32_t cp, char quote, char *out)
{
    size_t n = simple_escape(cp, quote, out);
    if (n)
        return n;
    if (ft_repr_printable(cp))
        return utf8(cp, out);
    if (cp < 0x100)
        return (size_t)sprintf(out, "\\x%02x", (unsigned)cp);
    if (cp < 0x10000)
        return (size_t)sprintf(out, "\\u%04x", (unsigned)cp);
    return (size_t)sprintf(out, "\\U%08x", (unsigned)(cp <= 0x10FFFF ? cp : 0xFFFD));
}

size_t ft_repr_byte(unsigned char b, char quote, char *out)
{
    size_t n = simple_escape(b, quote, out);
    if (n)
        return n;
    if (b < 0x20 || b >= 0x7F)
        return (size_t)sprintf(out, "\\x%02x", b);
    out[0] = (char)b;
    out[1] = '\0';
    return 1;
}
