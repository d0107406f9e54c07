/*
 * strbuf.h - a growable byte string for building output.
 * Aborts on out-of-memory rather than returning half-built text.
 */
#ifndef FT_STRBUF_H
#define FT_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data;
    size_t len, cap;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_add(struct strbuf *sb, const char *bytes, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
__attribute__((format(printf, 2, 3)))
void sb_printf(struct strbuf *sb, const char *fmt, ...);
/* Appends s as a JSON string literal (quotes included); invalid UTF-8
 * becomes U+FFFD so the output always parses. */
void sb_json_string(struct strbuf *sb, const char *s);

/* Appends s in double quotes for a terminal: quote and backslash escaped,
 * control characters and bytes of invalid UTF-8 as \xNN. */
void sb_text_quoted(struct strbuf *sb, const char *s);

/* Appends s escaped for XML text and attribute values; invalid UTF-8 and
 * control characters become U+FFFD so the document always parses. */
void sb_xml_text(struct strbuf *sb, const char *s);

#endif
