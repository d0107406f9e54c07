/*
 * pyimage.h - memory images of Python objects laid out with one version's
 * generated layout, for the object reader's unit test (which builds them)
 * and fuzzer (which reads mutated ones). Test code only.
 *
 * Two segments: the builtin types (objects.h's list) at
 * PYIMG_TYPES, built the same way by both, and the image proper at
 * PYIMG_BASE holding every other object, heap types included. Objects are
 * placed by a bump allocator that steps over reserved ranges, so a heap
 * type's far field (ht_cached_keys) can share the image with small objects
 * and a whole thread-name scenario fits a fuzzer input of 4 KiB. Also
 * values of every type the renderer knows, code objects and frames for the
 * locals reader (tests/unit/test_render.c, tests/fuzz/fuzz_render.c).
 */
#ifndef FT_PYIMAGE_H
#define FT_PYIMAGE_H

#include "cpython/code.h"
#include "cpython/layout.h"
#include "cpython/objects.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PYIMG_BASE 0x100000ull
#define PYIMG_TYPES 0x200000ull
#define PYIMG_TYPE_STRIDE 512
#define PYIMG_TYPES_SIZE (FT_TYPE_COUNT * PYIMG_TYPE_STRIDE + FT_TYPE_COUNT * 16)
#define PYIMG_MAX 65536
#define PYIMG_RESERVED 8

struct pyimg {
    const struct ft_layout *l;
    unsigned char mem[PYIMG_MAX];
    size_t used;
    uint64_t reserved[PYIMG_RESERVED][2]; /* [start, end) offsets not to allocate */
    size_t nreserved;
};

static inline uint64_t pyimg_type(enum ft_builtin_type t)
{
    return PYIMG_TYPES + (uint64_t)t * PYIMG_TYPE_STRIDE;
}

static inline void pyimg_put64(unsigned char *seg, size_t size, uint64_t at, uint64_t v)
{
    if (at + 8 > size)
        abort();
    memcpy(seg + at, &v, 8);
}

/* The builtin types: names, flags (static types), nothing else. */
static inline void pyimg_build_types(const struct ft_layout *l, unsigned char *seg)
{
    uint64_t flags[FT_TYPE_COUNT] = {0};
    flags[FT_TYPE_STR] = l->c.tpflags_unicode_subclass;
    flags[FT_TYPE_INT] = flags[FT_TYPE_BOOL] = l->c.tpflags_long_subclass;
    flags[FT_TYPE_DICT] = l->c.tpflags_dict_subclass;
    flags[FT_TYPE_BYTES] = l->c.tpflags_bytes_subclass;
    flags[FT_TYPE_TUPLE] = l->c.tpflags_tuple_subclass;
    flags[FT_TYPE_LIST] = l->c.tpflags_list_subclass;
    memset(seg, 0, PYIMG_TYPES_SIZE);
    for (int t = 0; t < FT_TYPE_COUNT; t++) {
        uint64_t at = (uint64_t)t * PYIMG_TYPE_STRIDE, name = FT_TYPE_COUNT * PYIMG_TYPE_STRIDE + t * 16;
        memcpy(seg + name, ft_builtin_names[t], strlen(ft_builtin_names[t]) + 1);
        pyimg_put64(seg, PYIMG_TYPES_SIZE, at + l->off.type_name, PYIMG_TYPES + name);
        pyimg_put64(seg, PYIMG_TYPES_SIZE, at + l->off.type_flags, flags[t]);
    }
}

static inline void pyimg_init(struct pyimg *g, const struct ft_layout *l)
{
    memset(g, 0, sizeof *g);
    g->l = l;
}

static inline void pyimg_reserve(struct pyimg *g, uint64_t start, uint64_t end)
{
    if (g->nreserved == PYIMG_RESERVED)
        abort();
    g->reserved[g->nreserved][0] = start;
    g->reserved[g->nreserved++][1] = end;
}

/* n zeroed bytes, 16-aligned, clear of reserved ranges; returns the address
 * `before` bytes into them (room for words kept before an object). */
static inline uint64_t pyimg_alloc(struct pyimg *g, size_t n, size_t before)
{
    size_t at = (g->used + 15) & ~(size_t)15;
    for (size_t i = 0; i < g->nreserved; i++)
        if (at < g->reserved[i][1] && at + n + before > g->reserved[i][0]) {
            at = (size_t)((g->reserved[i][1] + 15) & ~15ull);
            i = (size_t)-1;
        }
    if (at + n + before > PYIMG_MAX)
        abort();
    g->used = at + n + before;
    return PYIMG_BASE + at + before;
}

/* Bytes of the image in use: allocations and reserved words. */
static inline size_t pyimg_len(const struct pyimg *g)
{
    size_t n = g->used;
    for (size_t i = 0; i < g->nreserved; i++)
        n = g->reserved[i][1] > n ? (size_t)g->reserved[i][1] : n;
    return n;
}

static inline void pyimg_set(struct pyimg *g, uint64_t addr, const void *v, size_t n)
{
    if (addr < PYIMG_BASE || addr - PYIMG_BASE + n > PYIMG_MAX)
        abort();
    memcpy(g->mem + (addr - PYIMG_BASE), v, n);
}

static inline void pyimg_u64(struct pyimg *g, uint64_t addr, uint64_t v) { pyimg_set(g, addr, &v, 8); }
static inline void pyimg_u32(struct pyimg *g, uint64_t addr, uint32_t v) { pyimg_set(g, addr, &v, 4); }
static inline void pyimg_u8(struct pyimg *g, uint64_t addr, uint8_t v) { pyimg_set(g, addr, &v, 1); }

static inline uint64_t pyimg_object(struct pyimg *g, size_t size, uint64_t type, size_t before)
{
    uint64_t a = pyimg_alloc(g, size, before);
    pyimg_u64(g, a + g->l->off.ob_refcnt, 1);
    pyimg_u64(g, a + g->l->off.ob_type, type);
    return a;
}

/* A compact str of n code points of `kind` bytes (ascii: kind 1, all < 128). */
static inline uint64_t pyimg_str_units(struct pyimg *g, int kind, const uint32_t *cp, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    int ascii = kind == 1;
    for (size_t i = 0; i < n; i++)
        ascii &= cp[i] < 128;
    uint64_t head = ascii ? o->unicode_ascii_size : o->unicode_compact_size;
    uint64_t a = pyimg_object(g, head + (n + 1) * (size_t)kind, pyimg_type(FT_TYPE_STR), 0);
    uint32_t state = ((uint32_t)kind << c->state_kind_shift) | (1u << c->state_compact_bit) |
                     ((uint32_t)ascii << c->state_ascii_bit);
    pyimg_u32(g, a + o->unicode_state, state);
    pyimg_u64(g, a + o->unicode_length, n);
    for (size_t i = 0; i < n; i++)
        pyimg_set(g, a + head + i * (size_t)kind, &cp[i], (size_t)kind); /* little-endian */
    return a;
}

static inline uint64_t pyimg_str(struct pyimg *g, const char *ascii)
{
    uint32_t cp[256];
    size_t n = strlen(ascii);
    if (n > 256)
        abort();
    for (size_t i = 0; i < n; i++)
        cp[i] = (unsigned char)ascii[i];
    return pyimg_str_units(g, 1, cp, n);
}

/* An int of sign and magnitude, normalized. */
static inline uint64_t pyimg_int(struct pyimg *g, int negative, uint64_t mag)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    uint32_t digits[8];
    uint64_t nd = 0;
    for (uint64_t m = mag; m; m = c->long_shift < 64 ? m >> c->long_shift : 0)
        digits[nd++] = (uint32_t)(m & ((1ull << c->long_shift) - 1));
    uint64_t a = pyimg_object(g, o->long_digits + (nd ? nd : 1) * c->long_digit_size,
                              pyimg_type(FT_TYPE_INT), 0);
    if (o->long_tag != FT_ABSENT) {
        uint64_t sign = !mag ? c->long_sign_zero : negative ? c->long_sign_negative : 0;
        pyimg_u64(g, a + o->long_tag, nd << c->long_non_size_bits | sign);
    } else {
        pyimg_u64(g, a + o->long_size, negative ? (uint64_t)0 - nd : nd);
    }
    for (uint64_t i = 0; i < nd; i++)
        pyimg_set(g, a + o->long_digits + i * c->long_digit_size, &digits[i], (size_t)c->long_digit_size);
    return a;
}

static inline uint64_t pyimg_float(struct pyimg *g, double v)
{
    uint64_t a = pyimg_object(g, g->l->off.float_value + 8, pyimg_type(FT_TYPE_FLOAT), 0);
    pyimg_set(g, a + g->l->off.float_value, &v, 8);
    return a;
}

/* A heap type: its head at once, ht_cached_keys in a reserved word further
 * on (the gap between stays free for other objects). */
static inline uint64_t pyimg_heap_type(struct pyimg *g, const char *name, uint64_t flags,
                                       int64_t basicsize, int64_t dictoffset, uint64_t cached_keys)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t head = o->type_dictoffset + 8;
    uint64_t a = pyimg_alloc(g, head, 0);
    pyimg_reserve(g, a - PYIMG_BASE + o->heaptype_cached_keys, a - PYIMG_BASE + o->heaptype_cached_keys + 8);
    uint64_t s = pyimg_alloc(g, strlen(name) + 1, 0);
    pyimg_set(g, s, name, strlen(name) + 1);
    pyimg_u64(g, a + o->type_name, s);
    pyimg_u64(g, a + o->type_flags, flags | g->l->c.tpflags_heaptype);
    pyimg_u64(g, a + o->type_basicsize, (uint64_t)basicsize);
    pyimg_u64(g, a + o->type_dictoffset, (uint64_t)dictoffset);
    pyimg_u64(g, a + o->heaptype_cached_keys, cached_keys);
    return a;
}

/* Dict keys: kind is "general", "unicode" or "split" (3.11+; before, the
 * one kind). keys[i] = 0 leaves entry i deleted; values are stored in the
 * entries unless the keys are split. */
static inline uint64_t pyimg_keys(struct pyimg *g, const char *kind, unsigned log2_size,
                                  const uint64_t *keys, const uint64_t *values, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    uint64_t size = 1ull << log2_size;
    unsigned log2_width = size <= 0xff ? 0 : size <= 0xffff ? 1 : 2;
    uint64_t index_bytes = size << log2_width;
    int by_kind = o->dictkeys_log2_size != FT_ABSENT;
    int general = !by_kind || !strcmp(kind, "general");
    uint64_t esize = general ? c->dict_entry_size : c->unicode_entry_size;
    uint64_t koff = general ? o->dict_entry_key : o->unicode_entry_key;
    uint64_t voff = general ? o->dict_entry_value : o->unicode_entry_value;
    uint64_t a = pyimg_alloc(g, o->dictkeys_indices + index_bytes + n * esize, 0);
    pyimg_u64(g, a, 1); /* dk_refcnt */
    if (by_kind) {
        pyimg_u8(g, a + o->dictkeys_log2_size, (uint8_t)log2_size);
        pyimg_u8(g, a + o->dictkeys_log2_index_bytes, (uint8_t)(log2_size + log2_width));
        pyimg_u8(g, a + o->dictkeys_kind, (uint8_t)(general ? c->dict_kind_general
                                                   : !strcmp(kind, "split") ? c->dict_kind_split
                                                                            : c->dict_kind_unicode));
    } else {
        pyimg_u64(g, a + o->dictkeys_size, size);
    }
    pyimg_u64(g, a + o->dictkeys_nentries, n);
    uint64_t e = a + o->dictkeys_indices + index_bytes;
    for (size_t i = 0; i < n; i++) {
        pyimg_u64(g, e + i * esize + koff, keys[i]);
        if (values && strcmp(kind, "split"))
            pyimg_u64(g, e + i * esize + voff, values[i]);
    }
    return a;
}

/* A values array for split keys: 3.13+ with its header (capacity, valid);
 * returns what ma_values (or an object) points at. */
static inline uint64_t pyimg_values(struct pyimg *g, const uint64_t *values, size_t n, size_t capacity,
                                    int valid)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t a = pyimg_alloc(g, o->dictvalues_values + capacity * 8, 0);
    if (o->dictvalues_capacity != FT_ABSENT) {
        pyimg_u8(g, a + o->dictvalues_capacity, (uint8_t)capacity);
        pyimg_u8(g, a + o->dictvalues_valid, (uint8_t)valid);
    }
    for (size_t i = 0; i < n; i++)
        pyimg_u64(g, a + o->dictvalues_values + i * 8, values[i]);
    return a;
}

static inline uint64_t pyimg_dict(struct pyimg *g, uint64_t keys, uint64_t values, size_t used)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t a = pyimg_object(g, o->dict_values + 8, pyimg_type(FT_TYPE_DICT), 0);
    pyimg_u64(g, a + o->dict_used, used);
    pyimg_u64(g, a + o->dict_keys, keys);
    pyimg_u64(g, a + o->dict_values, values);
    return a;
}

/* A combined dict of str keys (NULL name: deleted entry). */
static inline uint64_t pyimg_str_dict(struct pyimg *g, const char *const *names, const uint64_t *values,
                                      size_t n)
{
    uint64_t keys[32];
    if (n > 32)
        abort();
    for (size_t i = 0; i < n; i++)
        keys[i] = names[i] ? pyimg_str(g, names[i]) : 0;
    return pyimg_dict(g, pyimg_keys(g, "unicode", 3 + (n > 5) + (n > 10), keys, values, n), 0, n);
}

static inline uint64_t pyimg_module(struct pyimg *g, uint64_t dict)
{
    uint64_t a = pyimg_object(g, g->l->off.module_dict + 8, pyimg_type(FT_TYPE_MODULE), 0);
    pyimg_u64(g, a + g->l->off.module_dict, dict);
    return a;
}

/* ---- values for the renderer and frames for the locals reader ---- */

/* An object of builtin type t with nothing but its head (None, or a type
 * test). */
static inline uint64_t pyimg_plain(struct pyimg *g, enum ft_builtin_type t, size_t size)
{
    return pyimg_object(g, size > 16 ? size : 16, pyimg_type(t), 0);
}

/* An int of nd digits given (least significant first), any size. */
static inline uint64_t pyimg_bigint(struct pyimg *g, int negative, const uint32_t *digits, size_t nd)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    uint64_t a = pyimg_object(g, o->long_digits + (nd ? nd : 1) * c->long_digit_size, pyimg_type(FT_TYPE_INT), 0);
    if (o->long_tag != FT_ABSENT)
        pyimg_u64(g, a + o->long_tag, (uint64_t)nd << c->long_non_size_bits |
                                          (!nd ? c->long_sign_zero : negative ? c->long_sign_negative : 0));
    else
        pyimg_u64(g, a + o->long_size, negative ? (uint64_t)0 - nd : nd);
    for (size_t i = 0; i < nd; i++)
        pyimg_set(g, a + o->long_digits + i * c->long_digit_size, &digits[i], (size_t)c->long_digit_size);
    return a;
}

static inline uint64_t pyimg_bool(struct pyimg *g, int v)
{
    uint64_t a = pyimg_int(g, 0, (uint64_t)v);
    pyimg_u64(g, a + g->l->off.ob_type, pyimg_type(FT_TYPE_BOOL));
    return a;
}

static inline uint64_t pyimg_bytes(struct pyimg *g, const void *data, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t a = pyimg_object(g, o->bytes_sval + n + 1, pyimg_type(FT_TYPE_BYTES), 0);
    pyimg_u64(g, a + o->bytes_size, n);
    if (n)
        pyimg_set(g, a + o->bytes_sval, data, n);
    return a;
}

static inline uint64_t pyimg_tuple(struct pyimg *g, const uint64_t *items, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t a = pyimg_object(g, o->tuple_items + (n ? n : 1) * 8, pyimg_type(FT_TYPE_TUPLE), 0);
    pyimg_u64(g, a + o->tuple_size, n);
    for (size_t i = 0; i < n; i++)
        pyimg_u64(g, a + o->tuple_items + i * 8, items[i]);
    return a;
}

/* A list; items may be changed afterwards through pyimg_list_items(). */
static inline uint64_t pyimg_list(struct pyimg *g, const uint64_t *items, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t a = pyimg_object(g, o->list_items + 8, pyimg_type(FT_TYPE_LIST), 0);
    uint64_t v = pyimg_alloc(g, (n ? n : 1) * 8, 0);
    pyimg_u64(g, a + o->list_size, n);
    pyimg_u64(g, a + o->list_items, n ? v : 0);
    for (size_t i = 0; i < n; i++)
        pyimg_u64(g, v + i * 8, items[i]);
    return a;
}

static inline uint64_t pyimg_list_items(const struct pyimg *g, uint64_t list)
{
    uint64_t v;
    memcpy(&v, g->mem + (list + g->l->off.list_items - PYIMG_BASE), 8);
    return v;
}

/* A set (or frozenset) of n keys in a table of 8 slots, one slot left
 * holding a deleted key (hash -1) before them. */
static inline uint64_t pyimg_setobj(struct pyimg *g, const uint64_t *keys, size_t n, int frozen, uint64_t dummy)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    uint64_t end = o->set_table > o->set_mask ? o->set_table : o->set_mask;
    end = end > o->set_used ? end : o->set_used;
    uint64_t a = pyimg_object(g, end + 8, pyimg_type(frozen ? FT_TYPE_FROZENSET : FT_TYPE_SET), 0);
    uint64_t t = pyimg_alloc(g, 8 * c->set_entry_size, 0);
    if (n > 6)
        abort();
    pyimg_u64(g, a + o->set_used, n);
    pyimg_u64(g, a + o->set_mask, 7);
    pyimg_u64(g, a + o->set_table, t);
    pyimg_u64(g, t + o->setentry_key, dummy);
    pyimg_u64(g, t + o->setentry_hash, (uint64_t)-1);
    for (size_t i = 0; i < n; i++) {
        pyimg_u64(g, t + (i + 1) * c->set_entry_size + o->setentry_key, keys[i]);
        pyimg_u64(g, t + (i + 1) * c->set_entry_size + o->setentry_hash, 1000 + i);
    }
    return a;
}

static inline uint64_t pyimg_cell(struct pyimg *g, uint64_t ref)
{
    uint64_t a = pyimg_object(g, g->l->off.cell_ref + 8, pyimg_type(FT_TYPE_CELL), 0);
    pyimg_u64(g, a + g->l->off.cell_ref, ref);
    return a;
}

/* A tuple of str names. */
static inline uint64_t pyimg_names(struct pyimg *g, const char *const *names, size_t n)
{
    uint64_t items[16];
    if (n > 16)
        abort();
    for (size_t i = 0; i < n; i++)
        items[i] = pyimg_str(g, names[i]);
    return pyimg_tuple(g, items, n);
}

/* A code object as the locals reader sees it: argument counts and flags,
 * and either (3.11+) localsplusnames and kinds, or (<=3.10) varnames,
 * cellvars, freevars and cell2arg (NULL: none). */
struct pyimg_code_spec {
    int argcount, kwonly, varargs, varkw;
    const char *const *names;     /* all slots' names, in slot order */
    size_t n;
    const uint8_t *kinds;         /* 3.11+ */
    size_t nlocals, ncells;       /* <=3.10: names[0..nlocals) varnames, then cells, then frees */
    const int64_t *cell2arg;      /* <=3.10 */
};

static inline uint64_t pyimg_code(struct pyimg *g, const struct pyimg_code_spec *s)
{
    const struct ft_offsets *o = &g->l->off;
    const struct ft_consts *c = &g->l->c;
    size_t size = o->code_size < FT_CODE_HEAD_MAX ? (size_t)o->code_size : FT_CODE_HEAD_MAX;
    uint64_t a = pyimg_object(g, size, pyimg_type(FT_TYPE_CODE), 0);
    pyimg_u32(g, a + o->code_argcount, (uint32_t)s->argcount);
    pyimg_u32(g, a + o->code_kwonlyargcount, (uint32_t)s->kwonly);
    pyimg_u32(g, a + o->code_flags, (uint32_t)((s->varargs ? c->co_varargs : 0) | (s->varkw ? c->co_varkeywords : 0)));
    if (o->code_localsplusnames != FT_ABSENT) {
        pyimg_u64(g, a + o->code_localsplusnames, pyimg_names(g, s->names, s->n));
        pyimg_u64(g, a + o->code_localspluskinds, pyimg_bytes(g, s->kinds, s->n));
        return a;
    }
    pyimg_u32(g, a + o->code_nlocals, (uint32_t)s->nlocals);
    pyimg_u64(g, a + o->code_varnames, pyimg_names(g, s->names, s->nlocals));
    pyimg_u64(g, a + o->code_cellvars, pyimg_names(g, s->names + s->nlocals, s->ncells));
    pyimg_u64(g, a + o->code_freevars, pyimg_names(g, s->names + s->nlocals + s->ncells,
                                                   s->n - s->nlocals - s->ncells));
    if (s->cell2arg) {
        uint64_t m = pyimg_alloc(g, s->ncells * 8 + 8, 0);
        pyimg_set(g, m, s->cell2arg, s->ncells * 8);
        pyimg_u64(g, a + o->code_cell2arg, m);
    }
    return a;
}

/* A frame whose slots hold slots[0..n); returns the frame's address (its
 * localsplus at the layout's offset). */
static inline uint64_t pyimg_frame(struct pyimg *g, const uint64_t *slots, size_t n)
{
    const struct ft_offsets *o = &g->l->off;
    uint64_t at = o->pyframe_localsplus != FT_ABSENT ? o->pyframe_localsplus : o->iframe_localsplus;
    uint64_t a = pyimg_alloc(g, at + (n ? n : 1) * 8, 0);
    for (size_t i = 0; i < n; i++)
        pyimg_u64(g, a + at + i * 8, slots[i]);
    return a;
}

/* A slot's bits for object addr (3.14+: tagged as a reference the frame
 * owns; before: the pointer). */
static inline uint64_t pyimg_slot(const struct pyimg *g, uint64_t addr)
{
    return addr ? addr : g->l->c.stackref_null;
}

#endif
