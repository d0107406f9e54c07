/*
 * unicode.h - turning CPython str data (latin-1, UCS-2 or UCS-4 code units)
 * into UTF-8. Pure and bounded: writes at most outsize bytes including the
 * NUL, and truncates on a character boundary.
 */
#ifndef FT_UNICODE_H
#define FT_UNICODE_H

#include <stddef.h>

/* kind is 1, 2 or 4 bytes per code point. Surrogates U+DC80..U+DCFF (from
 * os.fsdecode's surrogateescape) become the raw byte they stand for; other
 * unpaired surrogates and out-of-range values become U+FFFD. Returns the
 * number of bytes written (without the NUL), or (size_t)-1 for a bad kind. */
size_t ft_ucs_to_utf8(int kind, const void *data, size_t nchars, char *out, size_t outsize);

#endif
