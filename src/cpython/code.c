/*
 * code.c - code object decoding and caching (see code.h).
 * Bounds: names are cut at FT_NAME_MAX characters (read by ft_obj_str),
 * line tables refused above FT_LINETABLE_MAX, string lengths checked before
 * any read.
 */
#include "code.h"

#include "../util/error.h"
#include "linetable.h"
#include "remote.h"

#include <stdlib.h>
#include <string.h>

#define HEAD_MAX FT_CODE_HEAD_MAX

/* Set-associative: a code object may sit in any of WAYS slots of its set,
 * so that a few codes of one stack whose addresses fall in the same set
 * do not evict each other on every read (each eviction is a decode, and a
 * decode makes the stack read again). */
#define WAYS 4

struct ft_code_cache {
    struct ft_code **slots;
    size_t capacity;              /* power of two, at least WAYS */
    uint64_t clock;               /* lookups so far */
    struct ft_code **retired;
    size_t nretired, retired_cap;
};

struct ft_code_cache *ft_code_cache_new(size_t capacity)
{
    struct ft_code_cache *c = calloc(1, sizeof *c);
    size_t cap = 16;
    while (cap < capacity)
        cap *= 2;
    if (c)
        c->slots = calloc(cap, sizeof *c->slots);
    if (!c || !c->slots) {
        free(c);
        return NULL;
    }
    c->capacity = cap;
    return c;
}

static void code_free(struct ft_code *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->qualname);
    free(e->filename);
    free(e->linetable);
    free(e);
}

void ft_code_cache_sweep(struct ft_code_cache *c)
{
    for (size_t i = 0; i < c->nretired; i++)
        code_free(c->retired[i]);
    c->nretired = 0;
}

void ft_code_cache_free(struct ft_code_cache *c)
{
    if (!c)
        return;
    ft_code_cache_sweep(c);
    for (size_t i = 0; i < c->capacity; i++)
        code_free(c->slots[i]);
    free(c->retired);
    free(c->slots);
    free(c);
}

static void retire(struct ft_code_cache *c, struct ft_code *e)
{
    if (c->nretired == c->retired_cap) {
        size_t cap = c->retired_cap ? c->retired_cap * 2 : 64;
        struct ft_code **v = realloc(c->retired, cap * sizeof *v);
        if (!v) {
            abort();
        }
        c->retired = v;
        c->retired_cap = cap;
    }
    c->retired[c->nretired++] = e;
}

static size_t set_of(const struct ft_code_cache *c, uint64_t addr)
{
    return (size_t)((addr >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (c->capacity - 1) & ~(size_t)(WAYS - 1);
}

/* The slot holding addr, or NULL. */
static struct ft_code **slot_holding(struct ft_code_cache *c, uint64_t addr)
{
    struct ft_code **set = &c->slots[set_of(c, addr)];
    for (int w = 0; w < WAYS; w++)
        if (set[w] && set[w]->addr == addr) {
            set[w]->used = ++c->clock;
            return &set[w];
        }
    return NULL;
}

/* The slot for addr: where it is, else an empty one of its set, else the
 * least recently used. */
static struct ft_code **slot_for(struct ft_code_cache *c, uint64_t addr)
{
    struct ft_code **held = slot_holding(c, addr);
    if (held)
        return held;
    struct ft_code **set = &c->slots[set_of(c, addr)], **victim = &set[0];
    for (int w = 0; w < WAYS; w++) {
        if (!set[w])
            return &set[w];
        if (set[w]->used < (*victim)->used)
            victim = &set[w];
    }
    return victim;
}

static char *read_str_dup(struct ft_reader *r, uint64_t addr)
{
    char buf[FT_NAME_MAX * 4 + 1];
    if (ft_obj_str(r, addr, buf, sizeof buf) < 0)
        return NULL;
    return strdup(buf);
}

static int read_linetable(struct ft_reader *r, uint64_t bytes, struct ft_code *e)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t size;
    if (ft_read_word(r->proc, r->layout, bytes + o->bytes_size, &size) < 0)
        return -1;
    if (size > FT_LINETABLE_MAX) {
        ft_fail(FT_E_CORRUPT, "line table of %llu bytes is implausible", (unsigned long long)size);
        return -1;
    }
    e->linetable = malloc(size ? size : 1);
    e->linetable_len = size;
    return e->linetable ? ft_proc_read(r->proc, bytes + o->bytes_sval, e->linetable, size) : -1;
}

static void key_of(const struct ft_layout *l, const unsigned char *head, size_t n, uint64_t *key)
{
    const struct ft_offsets *o = &l->off;
    key[0] = ft_word_in(l, head, n, o->ob_type);
    key[1] = ft_word_in(l, head, n, o->code_name);
    key[2] = o->code_qualname == FT_ABSENT ? 0 : ft_word_in(l, head, n, o->code_qualname);
    key[3] = ft_word_in(l, head, n, o->code_filename);
    key[4] = ft_word_in(l, head, n, o->code_linetable);
    key[5] = (uint64_t)(uint32_t)ft_i32_in(head, n, o->code_firstlineno);
    key[6] = o->code_version == FT_ABSENT ? 0 : (uint64_t)(uint32_t)ft_i32_in(head, n, o->code_version);
}

/* Bytecode length: Py_SIZE(code) code units in 3.11+, len(co_code) before. */
static int code_length(struct ft_reader *r, const unsigned char *head, size_t n, struct ft_code *e)
{
    const struct ft_offsets *o = &r->layout->off;
    if (o->code_code_adaptive != FT_ABSENT) {
        e->code_bytes = 2 * ft_sword_in(r->layout, head, n, o->bytes_size);
        return 0;
    }
    uint64_t len;
    if (ft_read_word(r->proc, r->layout, ft_word_in(r->layout, head, n, o->code_code) + o->bytes_size, &len) < 0)
        return -1;
    e->code_bytes = (int64_t)len;
    return 0;
}

/* Size of the str or bytes object at addr (head and data), from its head. */
static int object_size(struct ft_reader *r, uint64_t addr, int is_bytes, uint64_t *size)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    if (is_bytes) {
        uint64_t len;
        if (ft_read_word(r->proc, r->layout, addr + o->bytes_size, &len) < 0)
            return -1;
        *size = o->bytes_sval + len;
        return 0;
    }
    unsigned char head[128];
    size_t hsize = o->unicode_compact_size < sizeof head ? (size_t)o->unicode_compact_size : sizeof head;
    if (ft_proc_read(r->proc, addr, head, hsize) < 0)
        return -1;
    uint32_t state = (uint32_t)ft_i32_in(head, hsize, o->unicode_state);
    uint64_t length = ft_word_in(r->layout, head, hsize, o->unicode_length);
    uint64_t kind = (state >> k->state_kind_shift) & k->state_kind_mask;
    int ascii = (state >> k->state_ascii_bit) & 1;
    *size = (ascii ? o->unicode_ascii_size : o->unicode_compact_size) +
            (length < FT_STR_CHECK_MAX ? length : FT_STR_CHECK_MAX) * (kind ? kind : 1);
    return 0;
}

/* 3.8-3.11: keeps the bytes of the objects the names and lines came from. */
static int remember_content(struct ft_reader *r, struct ft_code *e)
{
    const uint64_t addrs[FT_CODE_NSTR] = {e->key[1], e->key[2] != e->key[1] ? e->key[2] : 0,
                                          e->key[3], e->key[4]};
    for (int i = 0; i < FT_CODE_NSTR; i++) {
        uint64_t size;
        struct ft_code_str *s = &e->strs[i];
        if (!addrs[i])
            continue;
        if (object_size(r, addrs[i], i == 3, &size) < 0)
            return -1;
        s->addr = addrs[i];
        s->len = size < FT_STR_CHECK_MAX ? (uint32_t)size : FT_STR_CHECK_MAX;
        if (ft_proc_read(r->proc, s->addr, s->bytes, s->len) < 0)
            return -1;
    }
    return 0;
}

int ft_code_str_same(const struct ft_code *e, int i, const unsigned char *again)
{
    const struct ft_code_str *s = &e->strs[i];
    size_t skip = e->refcnt_size; /* ob_refcnt */
    return s->len <= skip || memcmp(s->bytes + skip, again + skip, s->len - skip) == 0;
}

static struct ft_code *decode(struct ft_reader *r, uint64_t addr, const unsigned char *head,
                              size_t n, const uint64_t *key)
{
    struct ft_code *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->addr = addr;
    e->refcnt_size = (uint8_t)r->layout->ptr_size;
    memcpy(e->key, key, sizeof e->key);
    e->firstlineno = (int)key[5];
    e->flags = (uint32_t)ft_i32_in(head, n, r->layout->off.code_flags);
    e->memo_offset[0] = e->memo_offset[1] = INT64_MIN;
    e->user_id = -1;
    e->name = read_str_dup(r, key[1]);
    e->filename = read_str_dup(r, key[3]);
    e->qualname = key[2] ? read_str_dup(r, key[2]) : (e->name ? strdup(e->name) : NULL);
    if (!e->name || !e->filename || !e->qualname || read_linetable(r, key[4], e) < 0 ||
        code_length(r, head, n, e) < 0 || e->code_bytes < 0 || e->code_bytes > (1 << 28) ||
        (r->check == FT_CHECK_CONTENT && remember_content(r, e) < 0)) {
        code_free(e);
        return NULL;
    }
    return e;
}

size_t ft_code_head_size(const struct ft_layout *l)
{
    return l->off.code_size < HEAD_MAX ? (size_t)l->off.code_size : HEAD_MAX;
}

static struct ft_code *decode_into_slot(struct ft_reader *r, struct ft_code **slot, uint64_t addr,
                                        const unsigned char *head, size_t n, const uint64_t *key)
{
    if (!ft_is_builtin_type(r, FT_TYPE_CODE, key[0])) {
        ft_fail(FT_E_CORRUPT, "object at 0x%llx is not a code object", (unsigned long long)addr);
        return NULL;
    }
    r->misses++;
    struct ft_code *e = decode(r, addr, head, n, key);
    if (!e)
        return NULL;
    if (*slot)
        retire(r->codes, *slot);
    *slot = e;
    e->used = ++r->codes->clock;
    return e;
}

struct ft_code *ft_code_from_head(struct ft_reader *r, uint64_t addr, const unsigned char *head,
                                  size_t n, int *needs_content)
{
    uint64_t key[FT_CODE_KEY];
    key_of(r->layout, head, n, key);
    r->lookups++;
    *needs_content = 0;
    struct ft_code **slot = slot_for(r->codes, addr);
    if (*slot && (*slot)->addr == addr && memcmp((*slot)->key, key, sizeof key) == 0) {
        *needs_content = r->check == FT_CHECK_CONTENT;
        return *slot;
    }
    return decode_into_slot(r, slot, addr, head, n, key);
}

struct ft_code *ft_code_redecode(struct ft_reader *r, struct ft_code *e, const unsigned char *head,
                                 size_t n)
{
    uint64_t key[FT_CODE_KEY];
    key_of(r->layout, head, n, key);
    struct ft_code **slot = slot_holding(r->codes, e->addr);
    if (!slot || *slot != e)
        return NULL;
    return decode_into_slot(r, slot, e->addr, head, n, key);
}

/* Reads the objects a cached entry was decoded from and compares them. */
static int content_same(struct ft_reader *r, const struct ft_code *e)
{
    unsigned char again[FT_CODE_NSTR][FT_STR_CHECK_MAX];
    for (int i = 0; i < FT_CODE_NSTR; i++)
        if (e->strs[i].addr && (ft_proc_read(r->proc, e->strs[i].addr, again[i], e->strs[i].len) < 0 ||
                                !ft_code_str_same(e, i, again[i])))
            return 0;
    return 1;
}

void ft_reader_init(struct ft_reader *r)
{
    const struct ft_offsets *o = &r->layout->off;
    ft_ev_layout_init(&r->ev_layout, o, r->layout->ptr_size);
    /* How many copies of the frames one read takes (fastread.c). Copies
     * that agree vouch for one moment only as far as the program did not
     * pass through the same states in the time between: a program looping
     * with about the period of the copies, or a copy torn between a caller
     * and its callee the same way twice, can agree on a stack that never
     * was. More copies, at random distances, make that rarer; what the
     * interpreter marks rules some of it out (stack.c). Measured with
     * tests/oracle.py over hundreds of thousands of samples per version:
     * 3.14+ clears a popped frame's code: two copies, none impossible.
     * 3.12-3.13 mark a waiting caller but keep popped frames intact: two
     * copies still let a few in 100,000 through, three none. 3.11 marks
     * nothing of the kind: four copies (two let 5 in 1,000 through, three
     * 2 in 10,000). 3.8-3.10 frame objects are read piece by piece and
     * cannot be copied at one instant at all (running threads are paused
     * there by default): three copies when they are not. */
    r->sandwich_layers = o->interp_code_generation != FT_ABSENT ? 2
                       : o->code_version != FT_ABSENT           ? 3
                       : o->pyframe_back != FT_ABSENT           ? 3 : 4;
    r->check = o->interp_code_generation != FT_ABSENT ? FT_CHECK_GENERATION
             : o->code_version != FT_ABSENT          ? FT_CHECK_VERSION
                                                     : FT_CHECK_CONTENT;
}

struct ft_code *ft_code_get(struct ft_reader *r, uint64_t addr)
{
    unsigned char head[HEAD_MAX];
    size_t n = ft_code_head_size(r->layout);
    int content;
    if (!addr || ft_proc_read(r->proc, addr, head, n) < 0)
        return NULL;
    struct ft_code *e = ft_code_from_head(r, addr, head, n, &content);
    if (e && content && !content_same(r, e)) {
        ft_error_clear();
        e = ft_code_redecode(r, e, head, n);
    }
    return e;
}

int ft_code_line(struct ft_code *c, enum ft_linetable_format fmt, int64_t offset)
{
    if (offset == c->memo_offset[0])
        return c->memo_line[0];
    if (offset != c->memo_offset[1]) {
        c->memo_line[1] = ft_line_for_offset(fmt, c->linetable, c->linetable_len, c->firstlineno,
                                             offset);
        c->memo_offset[1] = offset;
    }
    /* the most recent first */
    int64_t o = c->memo_offset[0];
    int l = c->memo_line[0];
    c->memo_offset[0] = c->memo_offset[1];
    c->memo_line[0] = c->memo_line[1];
    c->memo_offset[1] = o;
    c->memo_line[1] = l;
    return c->memo_line[0];
}

struct ft_code *ft_code_peek(struct ft_reader *r, uint64_t addr)
{
    struct ft_code **slot = slot_holding(r->codes, addr);
    return slot ? *slot : NULL;
}
