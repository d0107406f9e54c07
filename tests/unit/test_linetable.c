/*
 * test_linetable.c - the three line-table decoders.
 *
 * Built-in cases cover each format's corner cases; vector files given as
 * arguments (written by tests/test_linetables.py from each interpreter's own
 * co_lines()/findlinestarts) check real tables offset by offset. Vector
 * format, one record per line:  C <format> <firstlineno> <hex table>  then
 * O <byte offset> <line or -1>  for each instruction of that code object.
 */
#include "cpython/linetable.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static void test_lnotab(void)
{
    /* 3.8: offsets 0..5 line 10, 6.. line 11, 20.. line 9 (negative delta) */
    const uint8_t t[] = {6, 1, 14, (uint8_t)-2};
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, 0), 10);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, 5), 10);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, 6), 11);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, 19), 11);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, 20), 9);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, sizeof t, 10, -1), 10);
    CHECK_EQ_INT(ft_line_for_offset(FT_LNOTAB, t, 3, 10, 100), 11); /* odd length: last byte ignored */
}

static void test_linetable310(void)
{
    /* ranges: [0,4) +1, [4,8) no line, [8,8) +5 (empty), [8,12) -2 */
    const uint8_t t[] = {4, 1, 4, (uint8_t)-128, 0, 5, 4, (uint8_t)-2};
    CHECK_EQ_INT(ft_line_for_offset(FT_LINETABLE, t, sizeof t, 1, 0), 2);
    CHECK_EQ_INT(ft_line_for_offset(FT_LINETABLE, t, sizeof t, 1, 6), -1);
    CHECK_EQ_INT(ft_line_for_offset(FT_LINETABLE, t, sizeof t, 1, 8), 5);
    CHECK_EQ_INT(ft_line_for_offset(FT_LINETABLE, t, sizeof t, 1, 12), -1);
}

static void test_locations(void)
{
    /* short form (code 0, 1 unit), one-line form +2 (code 12, 2 units),
     * no-column form svarint -3 (code 13, 1 unit), long form +70 (code 14),
     * none (code 15, 1 unit) */
    const uint8_t t[] = {
        0x80 | (0 << 3) | 0, 0x05,
        0x80 | (12 << 3) | 1, 0x01, 0x02,
        0x80 | (13 << 3) | 0, (3 << 1) | 1,
        0x80 | (14 << 3) | 0, 0x40 | ((140 & 63)), 140 >> 6, 0, 1, 2,
        0x80 | (15 << 3) | 0,
    };
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 0), 7);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 2), 9);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 4), 9);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 6), 6);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 8), 76);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 10), -1);
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, t, sizeof t, 7, 12), -1);
    const uint8_t truncated[] = {0x80 | (14 << 3), 0x41};
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, truncated, sizeof truncated, 7, 0), -1);
    const uint8_t no_high_bit[] = {0x05};
    CHECK_EQ_INT(ft_line_for_offset(FT_LOCATIONS, no_high_bit, 1, 7, 0), -1);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (s[0] && s[1] && n < max && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
        out[n++] = (uint8_t)(hexval(s[0]) * 16 + hexval(s[1]));
        s += 2;
    }
    return n;
}

static int run_vectors(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    static char line[1 << 21];
    static uint8_t table[1 << 20];
    size_t len = 0;
    int fmt = 0, first = 0, codes = 0, offsets = 0, before = check_failures;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == 'C') {
            char *hex = NULL;
            fmt = (int)strtol(line + 2, &hex, 10);
            first = (int)strtol(hex, &hex, 10);
            len = unhex(hex + 1, table, sizeof table);
            codes++;
        } else if (line[0] == 'O') {
            char *end;
            long off = strtol(line + 2, &end, 10), want = strtol(end, NULL, 10);
            int got = ft_line_for_offset((enum ft_linetable_format)fmt, table, len, first, off);
            if (got != want && check_failures - before < 10)
                fprintf(stderr, "%s: offset %ld: got line %d, co_lines says %ld\n", path, off, got, want);
            check_count++;
            check_failures += got != want;
            offsets++;
        }
    }
    fclose(f);
    printf("%s: %d code objects, %d offsets\n", path, codes, offsets);
    return 0;
}

int main(int argc, char **argv)
{
    test_lnotab();
    test_linetable310();
    test_locations();
    for (int i = 1; i < argc; i++)
        if (run_vectors(argv[i]) < 0)
            return 2;
    return check_report("linetable");
}
