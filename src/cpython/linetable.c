/*
 * linetable.c - the three line-table decoders.
 *
 * 3.8/3.9 co_lnotab: (address increment, signed line increment) byte pairs;
 *   the line of an offset is the sum of increments of pairs that start at or
 *   before it.
 * 3.10 co_linetable: (address delta, signed line delta) pairs covering
 *   consecutive ranges; line delta -128 means "no line" for that range.
 * 3.11+ location table: entries of 1+ bytes; the first byte holds a code
 *   (bits 3-6) and a length in code units (bits 0-2, plus one); codes decide
 *   how the line delta is stored (varints with 6-bit chunks).
 * Each loop advances at least one byte per step, so they always end.
 */
#include "linetable.h"

#include <stdint.h>

/* Lines computed from hostile tables can be anything: only 0..INT32_MAX
 * is a line; everything else is "no line". */
static int as_line(int64_t line)
{
    return line < 0 || line > INT32_MAX ? -1 : (int)line;
}

static int lnotab_line(const uint8_t *t, size_t len, int64_t line, int64_t offset)
{
    int64_t addr = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        addr += t[i];
        if (addr > offset)
            break;
        line += (int8_t)t[i + 1];
    }
    return as_line(line);
}

static int linetable310_line(const uint8_t *t, size_t len, int64_t line, int64_t offset)
{
    int64_t start = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        int64_t end = start + t[i];
        int8_t delta = (int8_t)t[i + 1];
        if (delta != -128)
            line += delta;
        if (offset >= start && offset < end)
            return delta == -128 ? -1 : as_line(line);
        start = end;
    }
    return -1;
}

/* Reads a 6-bit-chunk varint; sets *ok = 0 if it runs off the table. */
static uint64_t read_varint(const uint8_t *t, size_t len, size_t *i, int *ok)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 6) {
        if (*i >= len) {
            *ok = 0;
            return 0;
        }
        uint8_t b = t[(*i)++];
        v |= (uint64_t)(b & 63) << shift;
        if (!(b & 64))
            return v;
    }
    *ok = 0;
    return 0;
}

/* Signed varint; a magnitude beyond 32 bits is no real line delta. */
static int64_t read_svarint(const uint8_t *t, size_t len, size_t *i, int *ok)
{
    uint64_t u = read_varint(t, len, i, ok);
    if ((u >> 1) > INT32_MAX) {
        *ok = 0;
        return 0;
    }
    return (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
}

enum { LOC_SHORT_MAX = 9, LOC_ONE_LINE0 = 10, LOC_ONE_LINE2 = 12, LOC_NO_COLUMNS = 13,
       LOC_LONG = 14, LOC_NONE = 15 };

/* Decodes one entry's line delta and skips its payload. Returns 0 at a
 * malformed entry. */
static int location_entry(const uint8_t *t, size_t len, size_t *i, int code, int64_t *delta)
{
    int ok = 1;
    if (code <= LOC_SHORT_MAX) {
        *delta = 0;
        *i += 1;
    } else if (code <= LOC_ONE_LINE2) {
        *delta = code - LOC_ONE_LINE0;
        *i += 2;
    } else if (code == LOC_NO_COLUMNS) {
        *delta = read_svarint(t, len, i, &ok);
    } else if (code == LOC_LONG) {
        *delta = read_svarint(t, len, i, &ok);
        read_varint(t, len, i, &ok);
        read_varint(t, len, i, &ok);
        read_varint(t, len, i, &ok);
    } else {
        *delta = 0;
    }
    return ok;
}

static int locations_line(const uint8_t *t, size_t len, int64_t line, int64_t offset)
{
    int64_t start = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t first = t[i++];
        if (!(first & 0x80))
            return -1; /* an entry must start with its high bit set */
        int code = (first >> 3) & 15;
        int64_t end = start + 2 * ((first & 7) + 1);
        int64_t delta;
        if (!location_entry(t, len, &i, code, &delta))
            return -1;
        line += delta;
        if (offset >= start && offset < end)
            return code == LOC_NONE ? -1 : as_line(line);
        start = end;
    }
    return -1;
}

int ft_line_for_offset(enum ft_linetable_format fmt, const uint8_t *table, size_t len,
                       int firstlineno, int64_t offset)
{
    if (offset < 0)
        return firstlineno;
    switch (fmt) {
    case FT_LNOTAB: return lnotab_line(table, len, firstlineno, offset);
    case FT_LINETABLE: return linetable310_line(table, len, firstlineno, offset);
    case FT_LOCATIONS: return locations_line(table, len, firstlineno, offset);
    }
    return -1;
}
