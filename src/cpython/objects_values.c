/*
 * objects_values.c - the reads the value renderer (render.c) needs, on top
 * of objects.c: str code units, ints of any size, bytes, tuple and list
 * items, set tables, cells and weak references (see objects.h).
 *
 * Same rules as objects.c: an object is taken for a builtin only when its
 * ob_type is that builtin type; every length and count is bounded before
 * anything is read with it; nothing here follows a pointer it was not asked
 * to, and nothing loops on remote data beyond a checked count.
 */
#include "objects_internal.h"

#include "../util/error.h"
#include "remote.h"

#include <string.h>

#define STR_HEAD_EXTRA 64          /* characters read with a str head       */
#define BYTES_MAX_LEN (1ull << 40) /* larger lengths: corrupt               */
#define ITEMS_MAX (1ull << 28)     /* larger tuples and lists: corrupt      */

int ft_obj_str_units(struct ft_reader *r, uint64_t addr, int *kind, uint64_t *length, void *out,
                     size_t max)
{
    const struct ft_offsets *o = offs(r);
    unsigned char head[OBJ_HEAD_MAX + STR_HEAD_EXTRA];
    size_t n;
    struct str_head s;
    int rc = ftobj_read_str_head(r, addr, head, &n, (size_t)o->unicode_compact_size + STR_HEAD_EXTRA, &s);
    if (rc == NOT_STR)
        return ftobj_corrupt("object that is not a str", addr);
    if (rc < 0)
        return -1;
    size_t at = (size_t)(s.ascii ? o->unicode_ascii_size : o->unicode_compact_size);
    size_t count = (uint64_t)s.length < max ? (size_t)s.length : max;
    size_t bytes = count * (size_t)s.kind;
    *kind = s.kind;
    *length = (uint64_t)s.length;
    if (at + bytes <= n) {
        memcpy(out, head + at, bytes);
        return 0;
    }
    return bytes ? ft_proc_read(r->proc, addr + at, out, bytes) : 0;
}

int ft_obj_long(struct ft_reader *r, uint64_t addr, int *negative, uint32_t *digits, size_t max,
                uint64_t *ndigits)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *c = consts(r);
    unsigned char head[OBJ_HEAD_MAX];
    size_t n;
    if (!c->long_shift || c->long_shift > 31 || !c->long_digit_size || c->long_digit_size > 4 ||
        o->long_digits > OBJ_HEAD_MAX - 8) {
        ft_fail(FT_E_VERSION, "int layout not usable");
        return -1;
    }
    if (!addr)
        return ftobj_corrupt("NULL int", addr);
    if (ftobj_read_prefix(r, addr, head, (size_t)o->long_digits, sizeof head, &n) < 0)
        return -1;
    int t = ft_builtin_of(r, ft_u64_in(head, n, o->ob_type));
    if (t != FT_TYPE_INT && t != FT_TYPE_BOOL)
        return ftobj_corrupt("object that is not an int", addr);
    if (ftobj_long_shape(r, addr, head, n, negative, ndigits) < 0)
        return -1;
    if (*ndigits > max)
        return FT_OBJ_ABSENT;
    size_t size = (size_t)c->long_digit_size, need = (size_t)o->long_digits + (size_t)*ndigits * size;
    unsigned char buf[4096];
    const unsigned char *d = head + o->long_digits;
    if (need > n) {
        if ((size_t)*ndigits * size > sizeof buf) {
            ft_fail(FT_E_CORRUPT, "int at 0x%llx: too many digits to read at once",
                    (unsigned long long)addr);
            return -1;
        }
        if (ft_proc_read(r->proc, addr + o->long_digits, buf, (size_t)*ndigits * size) < 0)
            return -1;
        d = buf;
    }
    for (uint64_t i = 0; i < *ndigits; i++) {
        uint32_t v = 0;
        memcpy(&v, d + i * size, size); /* little-endian target */
        if (v >> c->long_shift)
            return ftobj_corrupt("int with a digit out of range", addr);
        digits[i] = v;
    }
    return 0;
}

int ft_obj_bytes(struct ft_reader *r, uint64_t addr, unsigned char *out, size_t max, uint64_t *length)
{
    const struct ft_offsets *o = offs(r);
    uint64_t type, len;
    if (!addr)
        return ftobj_corrupt("NULL bytes", addr);
    if (ft_obj_type(r, addr, &type) < 0 || ftobj_expect_type(r, addr, type, FT_TYPE_BYTES) < 0 ||
        ft_read_u64(r->proc, addr + o->bytes_size, &len) < 0)
        return -1;
    if (len > BYTES_MAX_LEN)
        return ftobj_corrupt("bytes of an impossible length", addr);
    *length = len;
    size_t n = len < max ? (size_t)len : max;
    return n ? ft_proc_read(r->proc, addr + o->bytes_sval, out, n) : 0;
}

int ft_obj_items(struct ft_reader *r, uint64_t addr, enum ft_builtin_type t, uint64_t *items,
                 uint64_t *count)
{
    const struct ft_offsets *o = offs(r);
    uint64_t type;
    int64_t size;
    if (t != FT_TYPE_TUPLE && t != FT_TYPE_LIST) {
        ft_fail(FT_E_CORRUPT, "items of a %s asked for", ft_builtin_names[t]);
        return -1;
    }
    if (!addr)
        return ftobj_corrupt("NULL sequence", addr);
    uint64_t size_off = t == FT_TYPE_TUPLE ? o->tuple_size : o->list_size;
    if (ft_obj_type(r, addr, &type) < 0 || ftobj_expect_type(r, addr, type, t) < 0 ||
        ft_read_u64(r->proc, addr + size_off, (uint64_t *)&size) < 0)
        return -1;
    if (size < 0 || (uint64_t)size > ITEMS_MAX)
        return ftobj_corrupt(t == FT_TYPE_TUPLE ? "tuple of an impossible size" : "list of an impossible size",
                             addr);
    *count = (uint64_t)size;
    if (t == FT_TYPE_TUPLE) {
        *items = addr + o->tuple_items;
        return 0;
    }
    if (ft_read_u64(r->proc, addr + o->list_items, items) < 0)
        return -1;
    if (!*items && size)
        return ftobj_corrupt("list without items", addr);
    return 0;
}

int ft_obj_cell(struct ft_reader *r, uint64_t addr, uint64_t *ref)
{
    return ftobj_typed_field(r, addr, FT_TYPE_CELL, offs(r)->cell_ref, ref, sizeof *ref);
}

int ft_obj_weakref(struct ft_reader *r, uint64_t addr, uint64_t *ref)
{
    uint64_t type;
    if (!addr)
        return ftobj_corrupt("NULL weak reference", addr);
    if (ft_read_u64(r->proc, addr + offs(r)->weakref_object, ref) < 0)
        return -1;
    if (!*ref)
        return ftobj_corrupt("weak reference to nothing", addr);
    if (ft_obj_type(r, *ref, &type) < 0)
        return -1;
    if (ft_builtin_of(r, type) == FT_TYPE_NONE) /* the referent died */
        *ref = 0;
    return 0;
}

/* ---- sets ---- */

int ft_set_iter_init(struct ft_reader *r, uint64_t set, struct ft_set_iter *it, uint64_t *used)
{
    const struct ft_offsets *o = offs(r);
    uint64_t type;
    int64_t u, mask;
    if (!set)
        return ftobj_corrupt("NULL set", set);
    if (ft_obj_type(r, set, &type) < 0)
        return -1;
    int t = ft_builtin_of(r, type);
    if (t != FT_TYPE_SET && t != FT_TYPE_FROZENSET)
        return ftobj_corrupt("object that is not a set", set);
    if (ft_read_u64(r->proc, set + o->set_used, (uint64_t *)&u) < 0 ||
        ft_read_u64(r->proc, set + o->set_mask, (uint64_t *)&mask) < 0 ||
        ft_read_u64(r->proc, set + o->set_table, &it->table) < 0)
        return -1;
    uint64_t slots = (uint64_t)mask + 1;
    if (mask < 0 || slots > FT_SET_MAX_SLOTS || (slots & (slots - 1)) || u < 0 || (uint64_t)u > slots ||
        !it->table)
        return ftobj_corrupt("set with an impossible table", set);
    it->entry_size = consts(r)->set_entry_size;
    uint64_t word = (uint64_t)r->layout->ptr_size;
    if (!it->entry_size || it->entry_size > FT_SET_ENTRY_MAX || o->setentry_key + word > it->entry_size ||
        o->setentry_hash + word > it->entry_size) {
        ft_fail(FT_E_VERSION, "set entry layout not usable");
        return -1;
    }
    it->r = r;
    it->slots = slots;
    it->used = (uint64_t)u;
    it->pos = it->seen = it->first = it->count = it->read = 0;
    it->read_max = UINT64_MAX;
    *used = it->used;
    return 0;
}

int ft_set_iter_next(struct ft_set_iter *it, uint64_t *key)
{
    const struct ft_offsets *o = offs(it->r);
    while (it->pos < it->slots && it->seen < it->used) {
        if (it->pos >= it->first + it->count) {
            uint64_t left = it->slots - it->pos, n = left < FT_DICT_CHUNK ? left : FT_DICT_CHUNK;
            if (n * it->entry_size > it->read_max - it->read)
                return FT_ITER_SPENT;
            it->read += n * it->entry_size;
            if (ft_proc_read(it->r->proc, it->table + it->pos * it->entry_size, it->buf,
                             (size_t)(n * it->entry_size)) < 0)
                return -1;
            it->first = it->pos;
            it->count = n;
        }
        const unsigned char *e = it->buf + (it->pos - it->first) * it->entry_size;
        uint64_t k = ft_u64_in(e, (size_t)it->entry_size, o->setentry_key);
        int64_t hash = (int64_t)ft_u64_in(e, (size_t)it->entry_size, o->setentry_hash);
        it->pos++;
        if (k && hash != -1) { /* NULL: never used; hash -1: the dummy of a deleted key */
            it->seen++;
            *key = k;
            return 1;
        }
    }
    return 0;
}
