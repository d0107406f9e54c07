/*
 * fuzz_objects.c - libFuzzer target for the object reader and thread names
 * on hostile memory. Input: byte 0 picks a supported version's layout, byte
 * 1 the operation, bytes 2-3 the object's offset from PYIMG_BASE (signed
 * 16 bits, little-endian: an interpreter state starts before the image, only
 * its sys.modules field inside), the rest is the image at PYIMG_BASE. The builtin types sit in their own
 * segment (tests/fuzz/pyimage.h). Every input must give a value or an
 * error: no crash, no out-of-bounds access, no endless loop, and strings
 * always NUL-terminated within their buffers. Seeds are written by
 * `build/asan/unit/test_objects --write-seeds tests/fuzz/seeds/fuzz_objects`.
 */
#include "cpython/code.h"
#include "cpython/thread_names.h"
#include "pyimage.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_STR, OP_INT, OP_FLOAT, OP_TYPE_NAME, OP_ITER, OP_LOOKUP, OP_ATTR, OP_MODULE, OP_NAMES, OP_COUNT };

static void must_end(const char *s, size_t n)
{
    if (!memchr(s, '\0', n))
        abort();
}

static void iterate(struct ft_reader *r, uint64_t dict)
{
    struct ft_dict_iter it;
    uint64_t k, v;
    char key[32];
    size_t n = 0;
    if (ft_dict_iter_init(r, dict, &it) < 0)
        return;
    while (ft_dict_iter_next(&it, &k, &v) == 1) {
        if (!k || !v || ++n > FT_DICT_MAX_ENTRIES)
            abort();
        if (ft_obj_str(r, k, key, sizeof key) == 0)
            must_end(key, sizeof key);
        ft_error_clear();
    }
}

static void run(struct ft_reader *r, enum op op, uint64_t addr)
{
    static struct ft_thread_name names[FT_PYTHREADS_MAX];
    char s[64];
    int64_t i;
    uint64_t u;
    double d;
    size_t n = 0;
    switch (op) {
    case OP_STR: if (ft_obj_str(r, addr, s, sizeof s) == 0) must_end(s, sizeof s); break;
    case OP_INT: ft_obj_int(r, addr, &i); ft_obj_u64(r, addr, &u); break;
    case OP_FLOAT: ft_obj_float(r, addr, &d); break;
    case OP_TYPE_NAME: if (ft_obj_type_name(r, addr, s, sizeof s) == 0) must_end(s, sizeof s); break;
    case OP_ITER: iterate(r, addr); break;
    case OP_LOOKUP: ft_dict_lookup_str(r, addr, "_name", &u); ft_dict_lookup_str(r, addr, "d\xC3\xA9j\xC3\xA0", &u); break;
    case OP_ATTR: ft_obj_attr(r, addr, "_name", &u); break;
    case OP_MODULE: if (ft_find_module(r, addr, "threading", &u) == 0) ft_module_dict(r, u, &u); break;
    case OP_NAMES:
        if (ft_thread_names(r, addr, names, FT_PYTHREADS_MAX, &n) == 0 && n > FT_PYTHREADS_MAX)
            abort();
        for (size_t j = 0; j < n; j++)
            must_end(names[j].name, sizeof names[j].name);
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char types[PYIMG_TYPES_SIZE];
    struct ft_layout layout;
    int oldest, newest;
    if (size < 4)
        return 0;
    ft_layout_supported(&oldest, &newest);
    if (ft_layout_for_version(3, oldest + data[0] % (newest - oldest + 1), 0, &layout) < 0)
        abort();
    pyimg_build_types(&layout, types);
    size_t len = size - 4;
    unsigned char *mem = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    memcpy(mem, data + 4, len);
    struct ft_image_segment seg[2] = {{PYIMG_BASE, mem, len}, {PYIMG_TYPES, types, sizeof types}};
    struct ft_image image = {seg, 2};
    struct ft_proc proc;
    ft_proc_open_image(&proc, &image);
    struct ft_reader r = {.proc = &proc, .layout = &layout};
    uint16_t rel = (uint16_t)(data[2] | data[3] << 8);
    ft_error_clear();
    run(&r, (enum op)(data[1] % OP_COUNT), PYIMG_BASE + (uint64_t)(int16_t)rel);
    ft_proc_close(&proc);
    free(mem);
    return 0;
}
