/*
 * escape.c - the escaping rules of escape.h, written once: one walk over
 * the string that copies runs of safe bytes whole and writes one escape for
 * each character or byte the rule names. The three modes differ only in
 * which ASCII characters are special and how an escape is spelt.
 * Never emits invalid UTF-8 or a raw control character.
 */
#include "escape.h"

#include "strbuf.h"

#include <stdint.h>
#include <string.h>

enum mode { TEXT, XML, JSON };

struct sink {
    struct strbuf *sb;
    FILE *f;
};

static void put(const struct sink *o, const void *bytes, size_t n)
{
    if (o->sb)
        sb_add(o->sb, bytes, n);
    else
        fwrite(bytes, 1, n, o->f);
}

/* Writes prefix and v as `digits` lowercase hex digits. */
static void put_hex(const struct sink *o, const char *prefix, uint32_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    char buf[16];
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    for (int i = digits - 1; i >= 0; i--)
        buf[n++] = hex[(v >> (4 * i)) & 15];
    put(o, buf, n);
}

/* Length of the valid UTF-8 sequence at s with its code point, or 0. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) { n = 2; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; min = 0x10000; }
    else return 0;
    uint32_t v = s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)   /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Code points the text rule writes as escapes (see escape.h). */
static int is_hostile(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFFFE ||
           cp == 0xFFFF;
}

/* A printable ASCII character that this mode (or the caller) escapes. */
static int is_special(unsigned char c, enum mode m, const char *also)
{
    if (also && strchr(also, c))
        return 1;
    if (m == XML)
        return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
    if (m == JSON)
        return c == '"' || c == '\\';
    return 0;
}

static void put_escape(const struct sink *o, uint32_t cp, enum mode m)
{
    static const char *const xml[][2] = {
        {"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"},
    };
    if (m == XML)
        for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++)
            if (cp == (unsigned char)xml[i][0][0]) {
                put(o, xml[i][1], strlen(xml[i][1]));
                return;
            }
    if (m == JSON && (cp == '"' || cp == '\\')) {
        char esc[2] = {'\\', (char)cp};
        put(o, esc, 2);
    } else if (m == JSON || cp >= 0x80) {
        put_hex(o, "\\u", cp, 4);
    } else {
        put_hex(o, "\\x", cp, 2);
    }
}

static void walk(const struct sink *o, const char *str, const char *also, enum mode m)
{
    const unsigned char *s = (const unsigned char *)str, *run = s;
    while (*s) {
        if (*s >= 0x20 && *s < 0x7F && !is_special(*s, m, also)) {
            s++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = utf8_decode(s, &cp);
        if (n > 1 && !is_hostile(cp)) {
            s += n;
            continue;
        }
        put(o, run, (size_t)(s - run));
        if (n == 0) {
            if (m == JSON)
                put(o, "\\ufffd", 6);
            else
                put_hex(o, "\\x", *s, 2);
            n = 1;
        } else {
            put_escape(o, cp, m);
        }
        s += n;
        run = s;
    }
    put(o, run, (size_t)(s - run));
}

void ft_esc_text(struct strbuf *sb, const char *s, const char *also)
{
    struct sink o = {sb, NULL};
    walk(&o, s ? s : "", also, TEXT);
}

void ft_esc_text_quoted(struct strbuf *sb, const char *s)
{
    sb_add(sb, "\"", 1);
    ft_esc_text(sb, s, "\"");
    sb_add(sb, "\"", 1);
}

void ft_esc_text_file(FILE *f, const char *s)
{
    struct sink o = {NULL, f};
    walk(&o, s ? s : "", NULL, TEXT);
}

void ft_esc_xml(struct strbuf *sb, const char *s)
{
    struct sink o = {sb, NULL};
    walk(&o, s ? s : "", NULL, XML);
}

void ft_esc_json(struct strbuf *sb, const char *s)
{
    struct sink o = {sb, NULL};
    put(&o, "\"", 1);
    walk(&o, s ? s : "", NULL, JSON);
    put(&o, "\"", 1);
}
