/*
 * fuzz_wasm.c - libFuzzer target for finding CPython runtimes in wasm linear
 * memories (cpython/wasm_discover.c): a memory image of 32 KiB beside a
 * PROT_NONE reservation, as V8 lays one out, whose null page is followed by
 * the input (from byte 64 on; the first input byte also chooses where in the
 * memory the rest lands, so chunk edges get hit). Whatever the bytes, the
 * scan stays inside the memory, and whatever it reports lies in it.
 */
#include "cpython/wasm_discover.h"
#include "target/maps.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x7f0000000000ull
#define SIZE (32u << 10)

static unsigned char mem[SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(mem, 0, sizeof mem);
    size_t at = 64;
    if (size) {
        at += (size_t)data[0] * 997u % (SIZE / 2);
        data++, size--;
    }
    if (size > SIZE - at)
        size = SIZE - at;
    memcpy(mem + at, data, size);
    struct ft_image_segment seg = {BASE, mem, SIZE};
    struct ft_image image = {&seg, 1};
    struct ft_proc proc;
    ft_proc_open_image(&proc, &image);
    char text[256];
    snprintf(text, sizeof text,
             "%llx-%llx ---p 00000000 00:00 0 \n%llx-%llx rw-p 00000000 00:00 0 \n",
             (unsigned long long)(BASE - (2ull << 30)), (unsigned long long)BASE,
             (unsigned long long)BASE, (unsigned long long)(BASE + SIZE));
    if (ft_maps_parse(text, &proc.maps) < 0)
        abort();
    struct ft_wasm_runtime found[4];
    struct ft_wasm_scan scan;
    int n = ft_wasm_find_in(&proc, found, 4, &scan);
    for (int i = 0; i < n; i++)
        if (found[i].base < BASE || found[i].base >= BASE + SIZE || found[i].linear >= SIZE ||
            found[i].main_interp >= SIZE)
            abort();
    if (scan.scanned_bytes > SIZE)
        abort();
    ft_proc_close(&proc);
    ft_error_clear();
    return 0;
}
