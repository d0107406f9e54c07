/*
 * escape.h - the one place where names from a target (function and file
 * names, thread names, error texts quoting them) are made safe to show.
 * Every writer goes through these functions; none prints a name raw.
 *
 * The rule for text (dump text, collapsed, trace text, top, pprof strings,
 * and SVG under its XML escaping):
 *   - C0 controls (0x00-0x1F) and DEL (0x7F)        -> \xNN  (\x1b, \x0a, \x09)
 *   - C1 controls U+0080-U+009F                     -> \uNNNN (\u0085)
 *   - line/paragraph separators and bidi controls
 *     U+200E, U+200F, U+2028-U+202E, U+2066-U+2069  -> \uNNNN (\u202e)
 *   - each byte that is not part of valid UTF-8
 *     (stray, overlong, surrogate, truncated, > U+10FFFF) -> \xNN (\xff)
 *   - the ASCII characters the caller lists in `also` -> \xNN (collapsed: ';' -> \x3b)
 *   - everything else, backslash included, as it is.
 * So the result is valid UTF-8, one line, and cannot move the cursor, set
 * colours or reorder text on a terminal. Backslashes are kept, so the
 * escaping is for display, not reversible.
 *
 * JSON writers keep the real name, escaped per JSON: '"' and '\' with a
 * backslash, every character the text rule escapes as \u00NN / \uNNNN,
 * and each invalid UTF-8 byte as \ufffd (JSON text must be Unicode).
 *
 * Never allocates except through the strbuf; never reads past the NUL.
 */
#ifndef FT_ESCAPE_H
#define FT_ESCAPE_H

#include <stdio.h>

struct strbuf;

/* Appends s escaped by the text rule; `also` (may be NULL) lists extra
 * ASCII characters to write as \xNN. */
void ft_esc_text(struct strbuf *sb, const char *s, const char *also);
/* In double quotes, a quote inside written as \x22 (thread names). */
void ft_esc_text_quoted(struct strbuf *sb, const char *s);
/* The same, written to a stream. */
void ft_esc_text_file(FILE *f, const char *s);
/* Appends s by the text rule, then escaped for XML text and attributes. */
void ft_esc_xml(struct strbuf *sb, const char *s);
/* Appends s as a JSON string literal, quotes included. */
void ft_esc_json(struct strbuf *sb, const char *s);

/* The names the rest of the code has always used. */
static inline void sb_json_string(struct strbuf *sb, const char *s) { ft_esc_json(sb, s); }
static inline void sb_xml_text(struct strbuf *sb, const char *s) { ft_esc_xml(sb, s); }

#endif
