/*
 * fuzz_maps.c - libFuzzer target for the /proc/PID/maps parser: any text
 * parses into well-formed mappings (start < end) or is skipped.
 */
#include "target/maps.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct ft_maps m;
    if (ft_maps_parse(text, &m) == 0) {
        for (size_t i = 0; i < m.n; i++)
            if (m.v[i].start >= m.v[i].end)
                abort();
        ft_maps_free(&m);
    }
    free(text);
    return 0;
}
