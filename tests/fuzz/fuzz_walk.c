/*
 * fuzz_walk.c - libFuzzer target for the whole stack walker on hostile
 * memory: the input is a memory image placed at a fixed address with
 * _PyRuntime at its start, read with the layout of one supported version
 * (chosen by the first byte, whose top bits also ask for a paused read and
 * threading's names). Any image must give a snapshot or an error:
 * no crash, no out-of-bounds read, no endless loop.
 */
#include "cpython/walk.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x100000ull

static int pick_layout(uint8_t selector, struct ft_layout *l)
{
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    int minor = oldest + selector % (newest - oldest + 1);
    return ft_layout_for_version(3, minor, 0, l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct ft_runtime rt;
    memset(&rt, 0, sizeof rt);
    if (pick_layout(data[0], &rt.layout) < 0)
        abort();
    unsigned char *mem = malloc(size - 1);
    memcpy(mem, data + 1, size - 1);
    struct ft_image_segment seg = {BASE, mem, size - 1};
    struct ft_image image = {&seg, 1};
    struct ft_proc proc;
    ft_proc_open_image(&proc, &image);
    rt.addr = BASE;
    rt.pthread_tid_offset = FT_ABSENT;
    struct ft_reader r = {.proc = &proc, .layout = &rt.layout, .runtime = BASE, .codes = ft_code_cache_new(64)};
    ft_reader_init(&r);
    struct ft_walk_opts opts = {.paused = data[0] & 0x80, .python_names = data[0] & 0x40};
    struct ft_snapshot snap;
    ft_error_clear();
    if (ft_snapshot_take(&r, &rt, &opts, &snap) == 0) {
        for (size_t i = 0; i < snap.nthreads; i++)
            for (size_t j = 0; j < snap.threads[i].nframes; j++)
                if (!snap.threads[i].frames[j].code->qualname)
                    abort();
        ft_snapshot_free(&snap);
    }
    ft_walk_scratch_free(&r);
    ft_code_cache_free(r.codes);
    ft_proc_close(&proc);
    free(mem);
    return 0;
}
