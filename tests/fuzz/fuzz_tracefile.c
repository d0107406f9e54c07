/*
 * fuzz_tracefile.c - libFuzzer target for the raw trace reader and every
 * trace writer: any file must load (or be refused with an error) and write
 * as text, Chrome trace and counts without a crash, an out-of-bounds read
 * or an endless loop. Seeds are small real traces (tests/fuzz/seeds/).
 */
#include "trace/trace_output.h"
#include "trace/tracefile.h"
#include "util/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ft_trace t;
    memset(&t, 0, sizeof t);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    ft_trace_add_buffer(&t, copy, size);   /* owns copy from here */
    ft_trace_finish(&t);
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        ft_trace_write_text(&t, sink);
        ft_trace_write_chrome(&t, sink);
        ft_trace_write_counts(&t, sink);
        fclose(sink);
    }
    ft_trace_free(&t);
    ft_error_clear();
    return 0;
}
