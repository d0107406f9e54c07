/*
 * fuzz_linetable.c - libFuzzer target for the line-table and string
 * decoders: arbitrary tables and offsets must never read out of bounds, and
 * the answer must be -1 or a line number (never negative, never overflowing).
 * Input: byte 0 format, bytes 1-4 offset, then the table.
 */
#include "cpython/linetable.h"
#include "cpython/unicode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    enum ft_linetable_format fmt = (enum ft_linetable_format)(1 + data[0] % 3);
    int32_t offset;
    memcpy(&offset, data + 1, 4);
    size_t len = size - 5;
    uint8_t *table = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(table, data + 5, len);
    int line = ft_line_for_offset(fmt, table, len, 1000, offset % 100000);
    if (line < -1)
        abort();
    char out[64];
    ft_ucs_to_utf8(1 << (data[0] % 3), table, len / 4, out, sizeof out);
    if (strlen(out) >= sizeof out)
        abort();
    free(table);
    return 0;
}
