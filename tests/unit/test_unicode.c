/*
 * test_unicode.c - code units of each str kind to UTF-8, truncation on
 * character boundaries, surrogateescape bytes, invalid input.
 */
#include "cpython/unicode.h"
#include "util/strbuf.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

static void test_kinds(void)
{
    char out[64];
    const uint8_t latin1[] = {'c', 0xE9, 'a'};
    CHECK_EQ_INT(ft_ucs_to_utf8(1, latin1, 3, out, sizeof out), 4);
    CHECK(strcmp(out, "c\xC3\xA9" "a") == 0);
    const uint16_t ucs2[] = {0x0444, 0x20AC};
    CHECK_EQ_INT(ft_ucs_to_utf8(2, ucs2, 2, out, sizeof out), 5);
    CHECK(strcmp(out, "\xD1\x84\xE2\x82\xAC") == 0);
    const uint32_t ucs4[] = {0x1F600, 'x'};
    CHECK_EQ_INT(ft_ucs_to_utf8(4, ucs4, 2, out, sizeof out), 5);
    CHECK(strcmp(out, "\xF0\x9F\x98\x80x") == 0);
}

static void test_bad_values(void)
{
    char out[16];
    const uint32_t bad[] = {0xD800, 0x110000, 0xDCFF};
    ft_ucs_to_utf8(4, bad, 3, out, sizeof out);
    CHECK(strcmp(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xFF") == 0); /* two U+FFFD, raw byte 0xFF */
    CHECK_EQ_INT((long long)ft_ucs_to_utf8(3, bad, 1, out, sizeof out), -1);
    CHECK_EQ_INT((long long)ft_ucs_to_utf8(1, bad, 1, out, 0), -1);
}

static void test_truncation(void)
{
    char out[6];
    const uint16_t s[] = {0x20AC, 0x20AC, 0x20AC};
    CHECK_EQ_INT(ft_ucs_to_utf8(2, s, 3, out, sizeof out), 3); /* room for one euro only */
    CHECK(strcmp(out, "\xE2\x82\xAC") == 0);
}

static void test_json_escaping(void)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_json_string(&sb, "a\"b\\c\n<script>&\x01\xFF\xC3\xA9");
    CHECK(strcmp(sb.data, "\"a\\\"b\\\\c\\u000a<script>&\\u0001\\ufffd\xC3\xA9\"") == 0);
    sb_free(&sb);
}

int main(void)
{
    test_kinds();
    test_bad_values();
    test_truncation();
    test_json_escaping();
    return check_report("unicode");
}
