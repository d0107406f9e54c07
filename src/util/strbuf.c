/*
 * strbuf.c - growable string and JSON string escaping.
 * Never emits invalid UTF-8 or unescaped control characters in JSON.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
    free(sb->data);
    sb_init(sb);
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p)
        abort();
    sb->data = p;
    sb->cap = cap;
}

void sb_add(struct strbuf *sb, const char *bytes, size_t n)
{
    sb_reserve(sb, n);
    memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s) { sb_add(sb, s, strlen(s)); }

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is invalid. */
static size_t utf8_valid_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((s[0] & 0xE0) == 0xC0) { n = 2; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void sb_json_string(struct strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    sb_add(sb, "\"", 1);
    while (*p) {
        size_t n = utf8_valid_len(p);
        if (n == 0) {
            sb_puts(sb, "\\ufffd");
            p++;
        } else if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            sb_add(sb, esc, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7F) {
            sb_printf(sb, "\\u%04x", *p);
            p++;
        } else {
            sb_add(sb, (const char *)p, n);
            p += n;
        }
    }
    sb_add(sb, "\"", 1);
}

void sb_xml_text(struct strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_valid_len(p);
        if (n == 0) {
            sb_puts(sb, "\xEF\xBF\xBD"); /* U+FFFD: XML must be valid UTF-8 */
            p++;
            continue;
        }
        switch (*p) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default:
            if (*p < 0x20 && *p != '\t')
                sb_puts(sb, "\xEF\xBF\xBD"); /* control characters are not XML */
            else
                sb_add(sb, (const char *)p, n);
        }
        p += n;
    }
}

void sb_text_quoted(struct strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    sb_add(sb, "\"", 1);
    while (*p) {
        size_t n = utf8_valid_len(p);
        if (n == 0 || *p < 0x20 || *p == 0x7F) {
            sb_printf(sb, "\\x%02x", *p);
            p++;
            continue;
        }
        if (*p == '"' || *p == '\\')
            sb_add(sb, "\\", 1);
        sb_add(sb, (const char *)p, n);
        p += n;
    }
    sb_add(sb, "\"", 1);
}
