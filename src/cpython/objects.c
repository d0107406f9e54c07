/*
 * objects.c - validated reads of Python objects (see objects.h): types,
 * str, int, float, dicts, instance attributes, modules (the values the
 * renderer needs besides are in objects_values.c).
 *
 * Bounds: a type head is read in one piece of at most TYPE_HEAD_MAX bytes,
 * names of types at most FT_TYPE_NAME_MAX bytes, str objects at most
 * FT_NAME_MAX characters, ints at most 64 bits, dicts at most
 * FT_DICT_MAX_ENTRIES entries read FT_DICT_CHUNK at a time. Nothing here
 * loops on a remote pointer: every loop counts up to a checked bound.
 */
#include "objects.h"

#include "../util/error.h"
#include "code.h"
#include "remote.h"
#include "objects_internal.h"
#include "unicode.h"

#include <string.h>

#define PAGE 4096u
#define TYPE_HEAD_MAX 512          /* bytes of a type object read at once     */
#define BASICSIZE_MAX (1u << 16)   /* larger tp_basicsize / tp_dictoffset: corrupt */
#define KEYS_LOG2_MAX 40           /* larger hash tables: corrupt             */
#define STR_FAST_MAX 256           /* ASCII keys compared without decoding    */
#define STR_BATCH_MAX 64           /* ... and from one read of many key heads  */
#define STR_WITH_HEAD 64           /* bytes of characters read with a str head */
#define TRY_DICT 2                 /* inline values invalid: ask the dict     */

_Static_assert(FT_TYPE_COUNT <= FT_BUILTIN_TYPES_MAX, "ft_reader.types too small");

const char *const ft_builtin_names[FT_TYPE_COUNT] = {
    [FT_TYPE_STR] = "str",       [FT_TYPE_INT] = "int",       [FT_TYPE_FLOAT] = "float",
    [FT_TYPE_DICT] = "dict",     [FT_TYPE_MODULE] = "module", [FT_TYPE_CODE] = "code",
    [FT_TYPE_BOOL] = "bool",     [FT_TYPE_NONE] = "NoneType", [FT_TYPE_BYTES] = "bytes",
    [FT_TYPE_TUPLE] = "tuple",   [FT_TYPE_LIST] = "list",     [FT_TYPE_SET] = "set",
    [FT_TYPE_FROZENSET] = "frozenset", [FT_TYPE_CELL] = "cell",
};
#define builtin_names ft_builtin_names

int ftobj_corrupt(const char *what, uint64_t addr)
{
    ft_fail(FT_E_CORRUPT, "%s at 0x%llx", what, (unsigned long long)addr);
    return -1;
}

/* How many bytes to read at addr: `want`, unless that reaches into a page
 * past the one holding byte need-1 (the object may end before it and the
 * next page may be unmapped). Never less than need. */
size_t ftobj_safe_len(uint64_t addr, size_t need, size_t want)
{
    if (need == 0 || addr > UINT64_MAX - want)
        return want;
    uint64_t page_end = ((addr + need - 1) | (PAGE - 1)) + 1;
    return addr + want <= page_end ? want : (size_t)(page_end - addr);
}

/* Reads `want` bytes at addr (as many as ftobj_safe_len() allows), or `need`
 * alone if that fails: memory may end right after a short object. */
int ftobj_read_prefix(struct ft_reader *r, uint64_t addr, void *buf, size_t need, size_t want,
                      size_t *got)
{
    *got = ftobj_safe_len(addr, need, want);
    if (ft_proc_read(r->proc, addr, buf, *got) == 0)
        return 0;
    if (*got <= need)
        return -1;
    ft_error_clear();
    *got = need;
    return ft_proc_read(r->proc, addr, buf, need);
}

static uint64_t max4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t m = a > b ? a : b;
    m = m > c ? m : c;
    return m > d ? m : d;
}

/* ---- types ---- */

int ftobj_read_type_head(struct ft_reader *r, uint64_t type, struct type_head *h)
{
    const struct ft_offsets *o = offs(r);
    unsigned char buf[TYPE_HEAD_MAX];
    uint64_t end = max4(o->type_name, o->type_flags, o->type_basicsize, o->type_dictoffset) + PTR;
    if (end > sizeof buf) {
        ft_fail(FT_E_VERSION, "type object fields beyond %u bytes: layout not usable", TYPE_HEAD_MAX);
        return -1;
    }
    if (!type)
        return ftobj_corrupt("object without a type", type);
    if (ft_proc_read(r->proc, type, buf, (size_t)end) < 0)
        return -1;
    h->name = ft_word_in(r->layout, buf, sizeof buf, o->type_name);
    h->flags = ft_word_in(r->layout, buf, sizeof buf, o->type_flags);
    h->basicsize = ft_sword_in(r->layout, buf, sizeof buf, o->type_basicsize);
    h->dictoffset = ft_sword_in(r->layout, buf, sizeof buf, o->type_dictoffset);
    return 0;
}

/* The tp_flags bit every instance of builtin t has (0: nothing to check). */
static uint64_t subclass_flag(const struct ft_consts *c, enum ft_builtin_type t)
{
    switch (t) {
    case FT_TYPE_STR: return c->tpflags_unicode_subclass;
    case FT_TYPE_INT: return c->tpflags_long_subclass;
    case FT_TYPE_DICT: return c->tpflags_dict_subclass;
    case FT_TYPE_BOOL: return c->tpflags_long_subclass;
    case FT_TYPE_BYTES: return c->tpflags_bytes_subclass;
    case FT_TYPE_TUPLE: return c->tpflags_tuple_subclass;
    case FT_TYPE_LIST: return c->tpflags_list_subclass;
    default: return 0;
    }
}

/* Identifies t by name once; afterwards only its address is compared (a
 * static type has one address in a process, shared by its interpreters). */
int ft_is_builtin_type(struct ft_reader *r, enum ft_builtin_type t, uint64_t type)
{
    if (!type || (unsigned)t >= FT_TYPE_COUNT)
        return 0;
    if (r->types[t])
        return r->types[t] == type;
    const char *want = builtin_names[t];
    size_t n = strlen(want) + 1;
    char name[16];
    struct type_head h;
    if (ftobj_read_type_head(r, type, &h) < 0 || ft_proc_read(r->proc, h.name, name, n) < 0) {
        ft_error_clear();
        return 0;
    }
    uint64_t need = subclass_flag(consts(r), t);
    if ((h.flags & consts(r)->tpflags_heaptype) || (h.flags & need) != need || memcmp(name, want, n))
        return 0;
    r->types[t] = type;
    return 1;
}

static int read_cstring(struct ft_reader *r, uint64_t addr, char *out, size_t n);

int ft_builtin_of(struct ft_reader *r, uint64_t type)
{
    char name[16];
    struct type_head h;
    if (!type)
        return -1;
    for (int t = 0; t < FT_TYPE_COUNT; t++)
        if (r->types[t] == type)
            return t;
    if (ftobj_read_type_head(r, type, &h) < 0 || read_cstring(r, h.name, name, sizeof name) < 0) {
        ft_error_clear();
        return -1;
    }
    for (int t = 0; t < FT_TYPE_COUNT; t++) {
        uint64_t need = subclass_flag(consts(r), (enum ft_builtin_type)t);
        if (!r->types[t] && !strcmp(name, builtin_names[t]) && !(h.flags & consts(r)->tpflags_heaptype) &&
            (h.flags & need) == need) {
            r->types[t] = type;
            return t;
        }
    }
    return -1;
}

int ft_type_base(struct ft_reader *r, uint64_t type, uint64_t *base)
{
    if (offs(r)->type_base == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "this layout does not say where tp_base is");
        return -1;
    }
    if (!type)
        return ftobj_corrupt("NULL type", type);
    return ft_read_word(r->proc, r->layout, type + offs(r)->type_base, base);
}

int ft_obj_type(struct ft_reader *r, uint64_t addr, uint64_t *type)
{
    if (!addr)
        return ftobj_corrupt("NULL object", addr);
    return ft_read_word(r->proc, r->layout, addr + offs(r)->ob_type, type);
}

int ftobj_expect_type(struct ft_reader *r, uint64_t addr, uint64_t type, enum ft_builtin_type t)
{
    if (ft_is_builtin_type(r, t, type))
        return 0;
    ft_fail(FT_E_CORRUPT, "object at 0x%llx is not a %s", (unsigned long long)addr, builtin_names[t]);
    return -1;
}

/* A NUL-terminated string of at most n-1 bytes, read page by page so that
 * no read reaches past the page where the string ends. */
static int read_cstring(struct ft_reader *r, uint64_t addr, char *out, size_t n)
{
    size_t got = 0;
    while (got + 1 < n) {
        uint64_t at = addr + got;
        size_t room = n - 1 - got, to_page = PAGE - (size_t)(at % PAGE);
        size_t len = room < to_page ? room : to_page;
        if (ft_proc_read(r->proc, at, out + got, len) < 0) {
            out[0] = '\0';
            return -1;
        }
        if (memchr(out + got, '\0', len))
            return 0;
        got += len;
    }
    out[got] = '\0';
    return 0;
}

int ft_type_name(struct ft_reader *r, uint64_t type, char *out, size_t n)
{
    struct type_head h;
    if (n == 0)
        return -1;
    out[0] = '\0';
    if (ftobj_read_type_head(r, type, &h) < 0)
        return -1;
    return read_cstring(r, h.name, out, n < FT_TYPE_NAME_MAX + 1 ? n : FT_TYPE_NAME_MAX + 1);
}

int ft_obj_type_name(struct ft_reader *r, uint64_t addr, char *out, size_t n)
{
    uint64_t type;
    if (n == 0)
        return -1;
    out[0] = '\0';
    if (ft_obj_type(r, addr, &type) < 0)
        return -1;
    return ft_type_name(r, type, out, n);
}

/* ---- str ---- */

static void parse_str_head(const struct ft_reader *r, const unsigned char *head, size_t n,
                           struct str_head *s)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *k = consts(r);
    uint32_t state = (uint32_t)ft_i32_in(head, n, o->unicode_state);
    s->length = ft_sword_in(r->layout, head, n, o->unicode_length);
    s->kind = (int)((state >> k->state_kind_shift) & k->state_kind_mask);
    s->compact = (state >> k->state_compact_bit) & 1;
    s->ascii = (state >> k->state_ascii_bit) & 1;
}

static int str_layout_usable(const struct ft_reader *r)
{
    const struct ft_offsets *o = offs(r);
    if (o->unicode_ascii_size <= OBJ_HEAD_MAX && o->unicode_compact_size <= OBJ_HEAD_MAX)
        return 1;
    ft_fail(FT_E_VERSION, "str heads beyond %u bytes: layout not usable", OBJ_HEAD_MAX);
    return 0;
}

int ftobj_check_str_head(struct ft_reader *r, uint64_t addr, const unsigned char *head, size_t n,
                         struct str_head *s)
{
    if (!ft_is_builtin_type(r, FT_TYPE_STR, ft_word_in(r->layout, head, n, offs(r)->ob_type)))
        return NOT_STR;
    parse_str_head(r, head, n, s);
    if (!s->compact || (s->kind != 1 && s->kind != 2 && s->kind != 4) || (s->ascii && s->kind != 1) ||
        s->length < 0 || s->length > (1 << 24))
        return ftobj_corrupt("str that is not a compact str", addr);
    return 0;
}

int ftobj_read_str_head(struct ft_reader *r, uint64_t addr, unsigned char *head, size_t *n,
                         size_t want, struct str_head *s)
{
    if (!str_layout_usable(r))
        return -1;
    if (!addr)
        return ftobj_corrupt("NULL str", addr);
    if (ftobj_read_prefix(r, addr, head, (size_t)offs(r)->unicode_ascii_size, want, n) < 0)
        return -1;
    return ftobj_check_str_head(r, addr, head, *n, s);
}

int ft_obj_str(struct ft_reader *r, uint64_t addr, char *out, size_t n)
{
    const struct ft_offsets *o = offs(r);
    unsigned char head[OBJ_HEAD_MAX + STR_WITH_HEAD], raw[FT_NAME_MAX * 4];
    size_t hsize;
    struct str_head s;
    if (n == 0)
        return -1;
    out[0] = '\0';
    /* The head and, for short strings, the characters in one read. */
    int rc = ftobj_read_str_head(r, addr, head, &hsize, (size_t)o->unicode_compact_size + STR_WITH_HEAD, &s);
    if (rc == NOT_STR)
        return ftobj_corrupt("object that is not a str", addr);
    if (rc < 0)
        return -1;
    size_t nchars = (size_t)s.length < FT_NAME_MAX ? (size_t)s.length : FT_NAME_MAX;
    nchars = nchars < n - 1 ? nchars : n - 1; /* each character takes a byte or more */
    size_t at = (size_t)(s.ascii ? o->unicode_ascii_size : o->unicode_compact_size);
    size_t bytes = nchars * (size_t)s.kind;
    const unsigned char *data = head + at;
    if (at + bytes > hsize) {
        if (ft_proc_read(r->proc, addr + at, raw, bytes) < 0)
            return -1;
        data = raw;
    }
    return ft_ucs_to_utf8(s.kind, data, nchars, out, n) == (size_t)-1 ? -1 : 0;
}

static int is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Decodes and compares: for keys that are not ASCII or are long. */
static int str_equals_decoded(struct ft_reader *r, uint64_t addr, const char *s, size_t len)
{
    uint64_t type;
    char buf[FT_NAME_MAX * 4 + 1];
    if (len + 6 > sizeof buf) /* longer than any str this file reads */
        return 0;
    if (ft_obj_type(r, addr, &type) < 0)
        return -1;
    if (!ft_is_builtin_type(r, FT_TYPE_STR, type))
        return 0;
    /* Room for s and one more character of any width: a longer key never
     * comes out cut down to s. */
    if (ft_obj_str(r, addr, buf, len + 6) < 0)
        return -1;
    return strcmp(buf, s) == 0;
}

/* Whether the object whose first n bytes are in buf (read at addr) is the
 * ASCII str s: 1, 0 (other types included) or -1. A compact str is ASCII
 * exactly when all its characters are, so s only equals an ASCII str.
 * Characters cut off by the first read are read now. */
static int ascii_equals(struct ft_reader *r, uint64_t addr, unsigned char *buf, size_t n, const char *s,
                        size_t len)
{
    const struct ft_offsets *o = offs(r);
    struct str_head h;
    int rc = ftobj_check_str_head(r, addr, buf, n, &h);
    if (rc)
        return rc == NOT_STR ? 0 : -1;
    if (!h.ascii || (uint64_t)h.length != len)
        return 0;
    size_t end = (size_t)o->unicode_ascii_size + len;
    if (n < end && ft_proc_read(r->proc, addr + n, buf + n, end - n) < 0)
        return -1;
    return memcmp(buf + o->unicode_ascii_size, s, len) == 0;
}

/* 1 if the object at addr is a str equal to s, 0 if it is not (other types
 * included), -1 if it cannot be read. */
static int str_equals(struct ft_reader *r, uint64_t addr, const char *s, size_t len)
{
    unsigned char buf[OBJ_HEAD_MAX + STR_FAST_MAX];
    size_t n;
    if (len > STR_FAST_MAX || !is_ascii(s, len))
        return str_equals_decoded(r, addr, s, len);
    if (!str_layout_usable(r))
        return -1;
    if (!addr)
        return ftobj_corrupt("NULL str", addr);
    size_t head = (size_t)offs(r)->unicode_ascii_size;
    if (ftobj_read_prefix(r, addr, buf, head, head + len, &n) < 0)
        return -1;
    return ascii_equals(r, addr, buf, n, s, len);
}

/* Which of keys[0..n) is the str s: 1 with *at set, 0 none, -1 error. Short
 * ASCII keys (the usual names) are compared from one read of all heads. */
static int find_key(struct ft_reader *r, const uint64_t *keys, size_t n, const char *s, size_t len,
                    size_t *at)
{
    unsigned char bufs[FT_DICT_CHUNK][OBJ_HEAD_MAX + STR_BATCH_MAX];
    struct ft_remote_iov iov[FT_DICT_CHUNK];
    size_t head = (size_t)offs(r)->unicode_ascii_size;
    int batch = n > 1 && n <= FT_DICT_CHUNK && len <= STR_BATCH_MAX && is_ascii(s, len) &&
                str_layout_usable(r);
    for (size_t i = 0; batch && i < n; i++)
        iov[i] = (struct ft_remote_iov){keys[i], bufs[i], ftobj_safe_len(keys[i], head, head + len)};
    if (batch && ft_proc_readv(r->proc, iov, n) < 0) {
        ft_error_clear(); /* one by one, each read as far as it can be */
        batch = 0;
    }
    for (size_t i = 0; i < n; i++) {
        int eq = batch ? ascii_equals(r, keys[i], bufs[i], iov[i].len, s, len) : str_equals(r, keys[i], s, len);
        if (eq) {
            *at = i;
            return eq;
        }
    }
    return 0;
}

/* ---- int and float ---- */

/* Sign and number of digits of the int whose head is in head. */
int ftobj_long_shape(const struct ft_reader *r, uint64_t addr, const unsigned char *head, size_t n,
                      int *negative, uint64_t *ndigits)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *c = consts(r);
    if (o->long_tag != FT_ABSENT) {
        uint64_t tag = ft_word_in(r->layout, head, n, o->long_tag);
        uint64_t sign = tag & c->long_sign_mask;
        *ndigits = tag >> c->long_non_size_bits;
        *negative = sign == c->long_sign_negative;
        if (sign != 0 && sign != c->long_sign_zero && !*negative)
            return ftobj_corrupt("int with an impossible sign", addr);
        if (sign == c->long_sign_zero)
            *ndigits = 0;
        return 0;
    }
    int64_t size = ft_sword_in(r->layout, head, n, o->long_size);
    *negative = size < 0;
    *ndigits = size < 0 ? 0 - (uint64_t)size : (uint64_t)size;
    return 0;
}

/* The magnitude of digits (little-endian, `shift` bits each); -1 if it
 * does not fit 64 bits or a digit is out of range. */
static int sum_digits(const struct ft_consts *c, const unsigned char *d, uint64_t ndigits,
                      uint64_t *out)
{
    uint64_t mag = 0, shift = c->long_shift, size = c->long_digit_size;
    for (uint64_t i = 0; i < ndigits; i++) {
        uint64_t digit = 0;
        memcpy(&digit, d + i * size, (size_t)size); /* little-endian target */
        uint64_t at = i * shift;
        if (digit >> shift)
            return -1;
        if (digit && (at >= 64 || (at && digit >> (64 - at))))
            return -1;
        if (digit)
            mag |= digit << at;
    }
    *out = mag;
    return 0;
}

static int read_long(struct ft_reader *r, uint64_t addr, int *negative, uint64_t *mag)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *c = consts(r);
    unsigned char buf[OBJ_HEAD_MAX];
    uint64_t ndigits;
    uint64_t max_digits = c->long_shift ? (64 + c->long_shift - 1) / c->long_shift : 0;
    size_t need = (size_t)o->long_digits, full = need + (size_t)(max_digits * c->long_digit_size);
    if (!c->long_shift || c->long_shift > 32 || !c->long_digit_size || c->long_digit_size > 4 ||
        o->long_digits > OBJ_HEAD_MAX / 2 || full > sizeof buf) {
        ft_fail(FT_E_VERSION, "int layout not usable");
        return -1;
    }
    if (!addr)
        return ftobj_corrupt("NULL int", addr);
    size_t n;
    if (ftobj_read_prefix(r, addr, buf, need, full, &n) < 0 ||
        ftobj_expect_type(r, addr, ft_word_in(r->layout, buf, n, o->ob_type), FT_TYPE_INT) < 0 ||
        ftobj_long_shape(r, addr, buf, n, negative, &ndigits) < 0)
        return -1;
    if (ndigits > max_digits) {
        ft_fail(FT_E_CORRUPT, "int at 0x%llx has %llu digits: beyond 64 bits", (unsigned long long)addr,
                (unsigned long long)ndigits);
        return -1;
    }
    size_t end = need + (size_t)(ndigits * c->long_digit_size);
    if (n < end && ft_proc_read(r->proc, addr + n, buf + n, end - n) < 0)
        return -1;
    if (sum_digits(c, buf + need, ndigits, mag) < 0)
        return ftobj_corrupt("int beyond 64 bits or with a digit out of range", addr);
    return 0;
}

int ft_obj_int(struct ft_reader *r, uint64_t addr, int64_t *out)
{
    int neg;
    uint64_t mag;
    if (read_long(r, addr, &neg, &mag) < 0)
        return -1;
    if (mag > (uint64_t)INT64_MAX + neg)
        return ftobj_corrupt("int beyond int64", addr);
    *out = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return 0;
}

int ft_obj_u64(struct ft_reader *r, uint64_t addr, uint64_t *out)
{
    int neg;
    uint64_t mag;
    if (read_long(r, addr, &neg, &mag) < 0)
        return -1;
    if (neg && mag)
        return ftobj_corrupt("negative int where an unsigned one was expected", addr);
    *out = mag;
    return 0;
}

int ftobj_typed_field(struct ft_reader *r, uint64_t addr, enum ft_builtin_type t, uint64_t off, void *out,
                      size_t n)
{
    uint64_t type;
    if (ft_obj_type(r, addr, &type) < 0 || ftobj_expect_type(r, addr, type, t) < 0)
        return -1;
    return ft_proc_read(r->proc, addr + off, out, n);
}

int ft_obj_float(struct ft_reader *r, uint64_t addr, double *out)
{
    return ftobj_typed_field(r, addr, FT_TYPE_FLOAT, offs(r)->float_value, out, sizeof *out);
}

/* ---- dicts ---- */

/* Index width of a 3.8-3.10 hash table of `size` slots, as the comment on
 * dk_indices in Objects/dict-common.h states it. */
static uint64_t index_width(uint64_t size)
{
    return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffull ? 4 : 8;
}

struct keys_info {
    uint64_t entries, nentries, entry_size, key_off, value_off;
    int split;                    /* -1: the version has no kind; ma_values says */
};

/* 3.11+: dk_log2_size, dk_log2_index_bytes and dk_kind. */
static int keys_by_kind(struct ft_reader *r, uint64_t keys, const unsigned char *head, size_t n,
                        uint64_t *size, uint64_t *index_bytes, struct keys_info *k)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *c = consts(r);
    unsigned log2 = ft_u8_in(head, n, o->dictkeys_log2_size);
    unsigned log2_ix = ft_u8_in(head, n, o->dictkeys_log2_index_bytes);
    unsigned kind = ft_u8_in(head, n, o->dictkeys_kind);
    if (log2 > KEYS_LOG2_MAX || log2_ix < log2 || log2_ix > log2 + 3)
        return ftobj_corrupt("dict keys with an impossible table size", keys);
    *size = 1ull << log2;
    *index_bytes = 1ull << log2_ix;
    if (kind == c->dict_kind_general) {
        k->entry_size = c->dict_entry_size;
        k->key_off = o->dict_entry_key;
        k->value_off = o->dict_entry_value;
    } else if (kind == c->dict_kind_unicode || kind == c->dict_kind_split) {
        k->entry_size = c->unicode_entry_size;
        k->key_off = o->unicode_entry_key;
        k->value_off = o->unicode_entry_value;
    } else {
        return ftobj_corrupt("dict keys of unknown kind", keys);
    }
    k->split = kind == c->dict_kind_split;
    return 0;
}

/* 3.8-3.10: dk_size, every entry a PyDictKeyEntry. */
static int keys_by_size(struct ft_reader *r, uint64_t keys, const unsigned char *head, size_t n,
                        uint64_t *size, uint64_t *index_bytes, struct keys_info *k)
{
    const struct ft_offsets *o = offs(r);
    int64_t s = ft_sword_in(r->layout, head, n, o->dictkeys_size);
    if (s <= 0 || (s & (s - 1)) || s > (1ll << KEYS_LOG2_MAX))
        return ftobj_corrupt("dict keys with an impossible table size", keys);
    *size = (uint64_t)s;
    *index_bytes = *size * index_width(*size);
    k->entry_size = consts(r)->dict_entry_size;
    k->key_off = o->dict_entry_key;
    k->value_off = o->dict_entry_value;
    k->split = -1;
    return 0;
}

static int read_keys(struct ft_reader *r, uint64_t keys, struct keys_info *k)
{
    const struct ft_offsets *o = offs(r);
    unsigned char head[OBJ_HEAD_MAX];
    size_t n = (size_t)o->dictkeys_indices;
    uint64_t size, index_bytes;
    if (n > sizeof head || o->dictkeys_nentries == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "dict keys layout not usable");
        return -1;
    }
    if (!keys)
        return ftobj_corrupt("dict without keys", keys);
    if (ft_proc_read(r->proc, keys, head, n) < 0)
        return -1;
    int rc = o->dictkeys_log2_size != FT_ABSENT ? keys_by_kind(r, keys, head, n, &size, &index_bytes, k)
                                                : keys_by_size(r, keys, head, n, &size, &index_bytes, k);
    if (rc < 0)
        return -1;
    int64_t nentries = ft_sword_in(r->layout, head, n, o->dictkeys_nentries);
    if (nentries < 0 || (uint64_t)nentries > size)
        return ftobj_corrupt("dict keys with an impossible entry count", keys);
    if (nentries > FT_DICT_MAX_ENTRIES) {
        ft_fail(FT_E_CORRUPT, "dict keys at 0x%llx hold %lld entries: more than frametap reads (%u)",
                (unsigned long long)keys, (long long)nentries, FT_DICT_MAX_ENTRIES);
        return -1;
    }
    uint64_t word = (uint64_t)r->layout->ptr_size;
    if (!k->entry_size || k->entry_size > FT_DICT_ENTRY_MAX || k->key_off + word > k->entry_size ||
        k->value_off + word > k->entry_size) {
        ft_fail(FT_E_VERSION, "dict entry layout not usable");
        return -1;
    }
    k->nentries = (uint64_t)nentries;
    k->entries = keys + o->dictkeys_indices + index_bytes;
    return 0;
}

/* Iterates keys with, for a split table, the values array at `values`
 * (address of values[0]) holding at most values_cap of them. */
static int iter_start(struct ft_reader *r, uint64_t keys, uint64_t values, uint64_t values_cap,
                      struct ft_dict_iter *it)
{
    struct keys_info k;
    if (read_keys(r, keys, &k) < 0)
        return -1;
    if (k.split >= 0 && k.split != (values != 0))
        return ftobj_corrupt(values ? "values for combined dict keys" : "split dict keys without values", keys);
    it->r = r;
    it->entries = k.entries;
    it->nentries = k.nentries;
    it->entry_size = k.entry_size;
    it->key_off = k.key_off;
    it->value_off = k.value_off;
    it->values = values;
    it->values_cap = values ? (values_cap < k.nentries ? values_cap : k.nentries) : 0;
    it->pos = it->first = it->count = it->read = 0;
    it->read_max = UINT64_MAX;
    return 0;
}

/* 3.13+ values arrays say how many slots they have; earlier ones do not. */
static int values_capacity(struct ft_reader *r, uint64_t values, uint64_t *cap)
{
    const struct ft_offsets *o = offs(r);
    uint8_t c;
    *cap = UINT64_MAX;
    if (o->dictvalues_capacity == FT_ABSENT)
        return 0;
    if (ft_proc_read(r->proc, values + o->dictvalues_capacity, &c, 1) < 0)
        return -1;
    *cap = c;
    return 0;
}

static int is_dict_type(struct ft_reader *r, uint64_t type)
{
    struct type_head h;
    if (ft_is_builtin_type(r, FT_TYPE_DICT, type))
        return 1;
    if (ftobj_read_type_head(r, type, &h) < 0) { /* a dict subclass shares the layout */
        ft_error_clear();
        return 0;
    }
    return (h.flags & consts(r)->tpflags_dict_subclass) != 0;
}

int ft_dict_iter_init(struct ft_reader *r, uint64_t dict, struct ft_dict_iter *it)
{
    const struct ft_offsets *o = offs(r);
    unsigned char head[OBJ_HEAD_MAX];
    size_t n = (size_t)max4(o->ob_type, o->dict_keys, o->dict_values, 0) + PTR;
    uint64_t cap;
    if (n > sizeof head) {
        ft_fail(FT_E_VERSION, "dict layout not usable");
        return -1;
    }
    if (!dict)
        return ftobj_corrupt("NULL dict", dict);
    if (ft_proc_read(r->proc, dict, head, n) < 0)
        return -1;
    if (!is_dict_type(r, ft_word_in(r->layout, head, n, o->ob_type)))
        return ftobj_corrupt("object that is not a dict", dict);
    uint64_t keys = ft_word_in(r->layout, head, n, o->dict_keys);
    uint64_t values = ft_word_in(r->layout, head, n, o->dict_values);
    if (values && values_capacity(r, values, &cap) < 0)
        return -1;
    return iter_start(r, keys, values ? values + o->dictvalues_values : 0, values ? cap : 0, it);
}

/* Reads the next chunk of entries (and of values, for a split table) in one
 * read. */
static int fill(struct ft_dict_iter *it)
{
    uint64_t left = it->nentries - it->pos, n = left < FT_DICT_CHUNK ? left : FT_DICT_CHUNK;
    uint64_t nv = it->values_cap > it->pos ? it->values_cap - it->pos : 0;
    struct ft_remote_iov iov[2] = {
        {it->entries + it->pos * it->entry_size, it->buf, (size_t)(n * it->entry_size)},
        {it->values + it->pos * wordsz(it->r), it->vbuf, 0},
    };
    nv = nv < n ? nv : n;
    iov[1].len = (size_t)(nv * wordsz(it->r));
    if (iov[0].len + iov[1].len > it->read_max - it->read)
        return FT_ITER_SPENT;
    it->read += iov[0].len + iov[1].len;
    if (ft_proc_readv(it->r->proc, iov, it->values && nv ? 2 : 1) < 0)
        return -1;
    it->first = it->pos;
    it->count = n;
    return 0;
}

int ft_dict_iter_next(struct ft_dict_iter *it, uint64_t *key, uint64_t *value)
{
    while (it->pos < it->nentries) {
        int rc = it->pos >= it->first + it->count ? fill(it) : 0;
        if (rc)
            return rc;
        uint64_t i = it->pos - it->first;
        const unsigned char *e = it->buf + i * it->entry_size;
        const struct ft_layout *l = it->r->layout;
        uint64_t k = ft_word_in(l, e, (size_t)it->entry_size, it->key_off);
        uint64_t v = !it->values ? ft_word_in(l, e, (size_t)it->entry_size, it->value_off)
                   : it->pos < it->values_cap ? ft_word_in(l, it->vbuf, sizeof it->vbuf, i * wordsz(it->r)) : 0;
        it->pos++;
        if (k && v) { /* NULL key: deleted entry; NULL value: not set here */
            *key = k;
            *value = v;
            return 1;
        }
    }
    return 0;
}

/* Looks for the str key a chunk of entries at a time. */
static int iter_find(struct ft_dict_iter *it, const char *key, uint64_t *value)
{
    uint64_t k[FT_DICT_CHUNK], v[FT_DICT_CHUNK];
    size_t len = strlen(key), at;
    for (int more = 1; more;) {
        size_t n = 0;
        while (n < FT_DICT_CHUNK) {
            int rc = ft_dict_iter_next(it, &k[n], &v[n]);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                more = 0;
                break;
            }
            n++;
        }
        int found = find_key(it->r, k, n, key, len, &at);
        if (found) {
            if (found > 0)
                *value = v[at];
            return found > 0 ? 0 : -1;
        }
    }
    return FT_OBJ_ABSENT;
}

int ft_dict_lookup_str(struct ft_reader *r, uint64_t dict, const char *key, uint64_t *value)
{
    struct ft_dict_iter it;
    if (ft_dict_iter_init(r, dict, &it) < 0)
        return -1;
    return iter_find(&it, key, value);
}

/* ---- instance attributes ---- */

/* Values kept outside a dict use the keys their type shares. */
static int shared_keys_attr(struct ft_reader *r, uint64_t type, const struct type_head *h,
                            uint64_t values, uint64_t cap, const char *name, uint64_t *value)
{
    struct ft_dict_iter it;
    uint64_t keys;
    if (!(h->flags & consts(r)->tpflags_heaptype))
        return ftobj_corrupt("instance values of a static type", type);
    if (ft_read_word(r->proc, r->layout, type + offs(r)->heaptype_cached_keys, &keys) < 0)
        return -1;
    if (!keys)
        return ftobj_corrupt("instance values without shared keys", type);
    if (iter_start(r, keys, values, cap, &it) < 0)
        return -1;
    return iter_find(&it, name, value);
}

/* 3.13+: values stored in the object right after tp_basicsize bytes (3.13
 * gives inline values only to types whose basicsize is sizeof(PyObject),
 * the offset it uses), authoritative while their `valid` byte is set. */
static int inline_attr(struct ft_reader *r, uint64_t obj, uint64_t type, const struct type_head *h,
                       const char *name, uint64_t *value)
{
    const struct ft_offsets *o = offs(r);
    unsigned char head[16] = {0};
    if (h->basicsize < (int64_t)(o->ob_type + wordsz(r)) || h->basicsize > BASICSIZE_MAX ||
        h->basicsize % wordsz(r))
        return ftobj_corrupt("type with an impossible tp_basicsize", type);
    if (o->dictvalues_values > sizeof head || o->dictvalues_valid == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "inline values layout not usable");
        return -1;
    }
    uint64_t values = obj + (uint64_t)h->basicsize;
    if (ft_proc_read(r->proc, values, head, (size_t)o->dictvalues_values) < 0)
        return -1;
    if (!ft_u8_in(head, sizeof head, o->dictvalues_valid))
        return TRY_DICT;
    return shared_keys_attr(r, type, h, values + o->dictvalues_values,
                            ft_u8_in(head, sizeof head, o->dictvalues_capacity), name, value);
}

/* 3.11+: the dict (or values) the interpreter manages before the object. */
static int managed_attr(struct ft_reader *r, uint64_t obj, uint64_t type, const struct type_head *h,
                        const char *name, uint64_t *value)
{
    const struct ft_offsets *o = offs(r);
    const struct ft_consts *c = consts(r);
    uint64_t word, values;
    if (h->flags & c->tpflags_inline_values) {
        int rc = inline_attr(r, obj, type, h, name, value);
        if (rc != TRY_DICT)
            return rc;
    }
    if (o->managed_dict_before == FT_ABSENT || obj < o->managed_dict_before) {
        ft_fail(FT_E_VERSION, "managed dict layout not usable");
        return -1;
    }
    if (ft_read_word(r->proc, r->layout, obj - o->managed_dict_before, &word) < 0)
        return -1;
    if (o->managed_values_before != FT_ABSENT) { /* 3.11: values in their own word */
        if (obj < o->managed_values_before ||
            ft_read_word(r->proc, r->layout, obj - o->managed_values_before, &values) < 0)
            return obj < o->managed_values_before ? ftobj_corrupt("object too low", obj) : -1;
        if (values)
            return shared_keys_attr(r, type, h, values + o->dictvalues_values, UINT64_MAX, name, value);
    }
    if (c->managed_values_tag && (word & c->managed_values_tag)) /* 3.12: tagged values */
        return shared_keys_attr(r, type, h, word + c->managed_values_delta + o->dictvalues_values,
                                UINT64_MAX, name, value);
    return word ? ft_dict_lookup_str(r, word, name, value) : FT_OBJ_ABSENT;
}

int ft_obj_attr(struct ft_reader *r, uint64_t obj, const char *name, uint64_t *value)
{
    uint64_t type, dict;
    struct type_head h;
    if (ft_obj_type(r, obj, &type) < 0 || ftobj_read_type_head(r, type, &h) < 0)
        return -1;
    if (h.flags & consts(r)->tpflags_managed_dict) /* 0 before 3.11 */
        return managed_attr(r, obj, type, &h, name, value);
    if (h.dictoffset == 0)
        return FT_OBJ_ABSENT;
    if (h.dictoffset < 0 || h.dictoffset > BASICSIZE_MAX) {
        ft_fail(FT_E_CORRUPT, "object at 0x%llx keeps its __dict__ at tp_dictoffset %lld (after "
                "variable-size items, or corrupt): not read", (unsigned long long)obj,
                (long long)h.dictoffset);
        return -1;
    }
    if (ft_read_word(r->proc, r->layout, obj + (uint64_t)h.dictoffset, &dict) < 0)
        return -1;
    return dict ? ft_dict_lookup_str(r, dict, name, value) : FT_OBJ_ABSENT;
}

/* ---- modules ---- */

int ft_find_module(struct ft_reader *r, uint64_t interp, const char *name, uint64_t *module)
{
    const struct ft_offsets *o = offs(r);
    uint64_t modules, mod, type;
    if (o->interp_modules == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "this layout does not say where sys.modules is");
        return -1;
    }
    if (ft_read_word(r->proc, r->layout, interp + o->interp_modules, &modules) < 0)
        return -1;
    if (!modules) /* the interpreter is starting or finishing */
        return FT_OBJ_ABSENT;
    int rc = ft_dict_lookup_str(r, modules, name, &mod);
    if (rc)
        return rc;
    if (ft_obj_type(r, mod, &type) < 0)
        return -1;
    if (!ft_is_builtin_type(r, FT_TYPE_MODULE, type))
        return FT_OBJ_ABSENT; /* something else stands in sys.modules */
    *module = mod;
    return 0;
}

int ft_module_dict(struct ft_reader *r, uint64_t module, uint64_t *dict)
{
    uint64_t type;
    if (ft_obj_type(r, module, &type) < 0 || ftobj_expect_type(r, module, type, FT_TYPE_MODULE) < 0 ||
        ft_read_word(r->proc, r->layout, module + offs(r)->module_dict, dict) < 0)
        return -1;
    return *dict ? 0 : FT_OBJ_ABSENT;
}
