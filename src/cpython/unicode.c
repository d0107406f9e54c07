/*
 * unicode.c - code units to UTF-8 (see unicode.h). Reads only nchars*kind
 * bytes of data; never writes past outsize.
 */
#include "unicode.h"

#include <stdint.h>
#include <string.h>

static uint32_t unit_at(int kind, const void *data, size_t i)
{
    switch (kind) {
    case 1: return ((const uint8_t *)data)[i];
    case 2: { uint16_t v; memcpy(&v, (const char *)data + 2 * i, 2); return v; }
    default: { uint32_t v; memcpy(&v, (const char *)data + 4 * i, 4); return v; }
    }
}

/* Encodes cp; returns its length, 0 if it does not fit in room. */
static size_t encode(uint32_t cp, char *out, size_t room)
{
    unsigned char b[4];
    size_t n;
    if (cp >= 0xDC80 && cp <= 0xDCFF) {
        b[0] = (unsigned char)(cp - 0xDC00); n = 1; /* surrogateescape'd byte */
    } else {
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            cp = 0xFFFD;
        if (cp < 0x80) { b[0] = (unsigned char)cp; n = 1; }
        else if (cp < 0x800) { b[0] = 0xC0 | (cp >> 6); b[1] = 0x80 | (cp & 63); n = 2; }
        else if (cp < 0x10000) {
            b[0] = 0xE0 | (cp >> 12); b[1] = 0x80 | ((cp >> 6) & 63); b[2] = 0x80 | (cp & 63);
            n = 3;
        } else {
            b[0] = 0xF0 | (cp >> 18); b[1] = 0x80 | ((cp >> 12) & 63);
            b[2] = 0x80 | ((cp >> 6) & 63); b[3] = 0x80 | (cp & 63); n = 4;
        }
    }
    if (n > room)
        return 0;
    memcpy(out, b, n);
    return n;
}

size_t ft_ucs_to_utf8(int kind, const void *data, size_t nchars, char *out, size_t outsize)
{
    if ((kind != 1 && kind != 2 && kind != 4) || outsize == 0)
        return (size_t)-1;
    size_t w = 0;
    for (size_t i = 0; i < nchars; i++) {
        size_t n = encode(unit_at(kind, data, i), out + w, outsize - 1 - w);
        if (n == 0)
            break;
        w += n;
    }
    out[w] = '\0';
    return w;
}
