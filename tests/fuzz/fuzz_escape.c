/*
 * fuzz_escape.c - any bytes through the three escaping modes of
 * util/escape.h: text output must be valid UTF-8 without control
 * characters (and without ';' when asked), XML must hold no raw markup
 * character and only the five entities, JSON must be one well-formed string
 * literal. Aborts on the first violation.
 */
#include "util/escape.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at s (not C0, DEL or C1), else 0. */
static size_t good_char(const unsigned char *s, size_t left)
{
    if (s[0] < 0x80)
        return s[0] >= 0x20 && s[0] != 0x7F;
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || n > left)
        return 0;
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp <= 0x9F)
        return 0;
    return n;
}

static void check_text(const struct strbuf *sb, const char *forbidden)
{
    const unsigned char *s = (const unsigned char *)(sb->data ? sb->data : "");
    for (size_t i = 0, n; i < sb->len; i += n)
        if (!(n = good_char(s + i, sb->len - i)) || (forbidden && strchr(forbidden, s[i]) && s[i]))
            abort();
}

static void check_xml(const struct strbuf *sb)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    check_text(sb, "<>\"'");
    for (const char *a = sb->data ? strchr(sb->data, '&') : NULL; a; a = strchr(a + 1, '&')) {
        size_t k = 0;
        while (k < 5 && strncmp(a, entities[k], strlen(entities[k])))
            k++;
        if (k == 5)
            abort();
    }
}

static void check_json(const struct strbuf *sb)
{
    const char *s = sb->data;
    if (sb->len < 2 || s[0] != '"' || s[sb->len - 1] != '"')
        abort();
    for (size_t i = 1; i < sb->len - 1; i++) {
        if (s[i] == '"')
            abort();
        if (s[i] != '\\')
            continue;
        i++;
        if (s[i] == 'u') {
            for (int k = 1; k <= 4; k++)
                if (!strchr("0123456789abcdef", s[i + k]) || !s[i + k])
                    abort();
            i += 4;
        } else if (!strchr("\"\\", s[i]) || !s[i]) {
            abort();
        }
    }
    struct strbuf inner = {(char *)s + 1, sb->len - 2, sb->len - 1, NULL, 0, 0};
    check_text(&inner, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct strbuf sb;
    sb_init(&sb);
    ft_esc_text(&sb, s, ";");
    check_text(&sb, ";");
    sb.len = 0;
    ft_esc_xml(&sb, s);
    check_xml(&sb);
    sb.len = 0;
    ft_esc_json(&sb, s);
    check_json(&sb);
    sb_free(&sb);
    free(s);
    return 0;
}
