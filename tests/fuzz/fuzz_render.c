/*
 * fuzz_render.c - libFuzzer target for the value renderer (render.c), the
 * locals reader (locals.c) and the coroutine chain reader (coro.c) on
 * hostile memory. Input: byte 0 picks a supported version's layout, byte 1
 * the operation (low two bits: 0 or 2 render the object, 1 read the
 * locals of a frame, 3 follow a coroutine's awaits) and the limits, bytes
 * 2-3 the object's (or code object's) offset from PYIMG_BASE and bytes 4-5
 * the frame's (signed 16 bits, little-endian), the rest is the image at
 * PYIMG_BASE; the builtin types sit in their own segment
 * (tests/fuzz/pyimage.h). Every input must give text or an error: no
 * crash, no out-of-bounds access, no endless loop, text no longer than its
 * width allows. Seeds are written by
 * `build/asan/unit/test_render --write-seeds tests/fuzz/seeds/fuzz_render`.
 */
#include "cpython/coro.h"
#include "cpython/locals.h"
#include "cpython/render.h"
#include "pyimage.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEAD 6

static void render(struct ft_reader *r, const struct ft_render_limits *lim, uint64_t addr)
{
    struct strbuf sb;
    struct ft_render_result res;
    sb_init(&sb);
    ft_render(r, NULL, lim, (struct ft_ref){FT_REF_OBJECT, addr, 0}, &sb, &res);
    if (sb.len > (size_t)lim->width * 4 + 3 || !memchr(res.type, '\0', sizeof res.type))
        abort();
    sb_free(&sb);
    /* the same bits as a frame slot: tagged forms decode to one of the kinds */
    struct ft_ref ref = ft_ref_decode(r->layout, addr);
    if (ref.kind != FT_REF_NULL && ref.kind != FT_REF_OBJECT && ref.kind != FT_REF_INT && ref.kind != FT_REF_INVALID)
        abort();
}

static void locals(struct ft_reader *r, const struct ft_render_limits *lim, uint64_t code, uint64_t frame)
{
    struct ft_code c = {.addr = code};
    struct ft_frame f = {.code = &c, .line = 1, .addr = frame};
    struct ft_frame_locals l;
    ft_read_locals(r, NULL, lim, &f, &l);
    if (l.n > FT_LOCALS_MAX || !memchr(l.error, '\0', sizeof l.error))
        abort();
    for (size_t i = 0; i < l.n; i++)
        if (!l.v[i].name || (l.v[i].set && !l.v[i].value) || l.v[i].kind > FT_LOCAL_FREE)
            abort();
    ft_frame_locals_free(&l);
}

static void coroutine(struct ft_reader *r, uint64_t addr)
{
    static struct ft_coro_chain chain;
    if (ft_coro_chain(r, addr, &chain) == 0 && chain.n > FT_CORO_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char types[PYIMG_TYPES_SIZE];

    struct ft_layout layout;
    int oldest, newest;
    if (size < HEAD)
        return 0;
    ft_layout_supported(&oldest, &newest);
    if (ft_layout_for_version(3, oldest + data[0] % (newest - oldest + 1), 0, &layout) < 0)
        abort();
    pyimg_build_types(&layout, types);
    size_t len = size - HEAD;
    unsigned char *mem = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    memcpy(mem, data + HEAD, len);
    struct ft_image_segment seg[2] = {{PYIMG_BASE, mem, len}, {PYIMG_TYPES, types, sizeof types}};
    struct ft_image image = {seg, 2};
    struct ft_proc proc;
    ft_proc_open_image(&proc, &image);
    struct ft_reader r = {.proc = &proc, .layout = &layout, .codes = ft_code_cache_new(64)};
    if (!r.codes)
        abort();
    ft_reader_init(&r);
    uint64_t a = PYIMG_BASE + (uint64_t)(int16_t)(uint16_t)(data[2] | data[3] << 8);
    uint64_t b = PYIMG_BASE + (uint64_t)(int16_t)(uint16_t)(data[4] | data[5] << 8);
    struct ft_render_limits lim = {8 + (data[1] >> 1) % 64, 1 + (data[1] >> 3) % 8, 1 + (data[1] >> 5) % 4, 4096};
    ft_error_clear();
    switch (data[1] & 3) {
    case 1: locals(&r, &lim, a, b); break;
    case 3: coroutine(&r, a); break;
    default: render(&r, &lim, a); break;
    }
    ft_proc_close(&proc);
    ft_code_cache_free(r.codes);
    free(mem);
    return 0;
}
