/*
 * strrepr.h - str and bytes written as Python's repr() writes them: the
 * quote Python picks, backslash escapes for quotes, backslashes, \t \n \r,
 * other controls as \xNN, and the characters Python does not print as
 * themselves as \xNN, \uNNNN or \UNNNNNNNN. Pure: never reads the target.
 *
 * Python asks its Unicode database which characters are printable; this
 * file knows the ones that matter for display (controls, separators,
 * spaces other than ' ', format characters such as bidi controls and
 * zero-width ones, surrogates, private use, noncharacters). Code points
 * unassigned in Unicode are shown as themselves where Python would escape
 * them; nothing it prints raw can move a terminal's cursor (the text
 * writers escape what remains, util/escape.h).
 */
#ifndef FT_STRREPR_H
#define FT_STRREPR_H

#include <stddef.h>
#include <stdint.h>

#define FT_REPR_CHAR_MAX 11        /* longest escape: \UXXXXXXXX, plus NUL */

/* The quote repr() uses: '"' when s holds a ' and no ", else '\''. */
char ft_repr_quote_units(int kind, const void *units, size_t n);
char ft_repr_quote_bytes(const unsigned char *b, size_t n);

/* Code unit i of a str of `kind` bytes per code point. */
uint32_t ft_repr_unit(int kind, const void *units, size_t i);

/* One code point of a str repr quoted with `quote`, as UTF-8 or an escape;
 * returns its length (NUL added). */
size_t ft_repr_char(uint32_t cp, char quote, char *out);
/* One byte of a bytes repr quoted with `quote`. */
size_t ft_repr_byte(unsigned char b, char quote, char *out);

/* Whether Python's str.isprintable() holds for cp (see above). */
int ft_repr_printable(uint32_t cp);

#endif
