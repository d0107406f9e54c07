/*
 * render.c - values of the target as repr()-like text (see render.h).
 *
 * One recursive descent over the value, each step bounded: the text stops
 * growing at lim->width characters, each container shows lim->items items,
 * at most lim->depth containers are open at once (and a container already
 * open is not entered again: cycles), and every read is charged to
 * lim->bytes. Reads go through objects.h only.
 */
#include "render.h"

#include "../util/error.h"
#include "numrepr.h"
#include "objects.h"
#include "remote.h"
#include "strrepr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_CACHE 64
#define PATH_MAX_DEPTH 64
#define INT_SHOWN_DIGITS 4300      /* Python's own default limit for int -> str */
#define LONG_DIGITS_MAX 1024       /* digits of an int read at most */
#define ITEM_CHUNK 32              /* item pointers read at once */
#define OBJ_CHARGE 32              /* bytes charged per object head read */

struct type_entry {
    uint64_t type;
    int builtin;                  /* enum ft_builtin_type or -1 */
    int named;                    /* name read (or tried) */
    char name[64];
};

struct ft_render_cache {
    struct type_entry v[TYPE_CACHE];
    size_t n, next;
};

struct ft_render_cache *ft_render_cache_new(void) { return calloc(1, sizeof(struct ft_render_cache)); }
void ft_render_cache_free(struct ft_render_cache *c) { free(c); }

struct ctx {
    struct ft_reader *r;
    struct ft_render_cache *cache;
    const struct ft_render_limits *lim;
    struct strbuf *out;
    struct ft_render_result *res;
    size_t chars;                 /* characters written so far */
    int full;                     /* a limit was reached: write nothing more */
    size_t budget;                /* bytes left to read */
    uint64_t path[PATH_MAX_DEPTH];
    unsigned depth;
};

/* ---- text ---- */

static void cut(struct ctx *c)
{
    c->full = 1;
    c->res->truncated = 1;
}

/* Appends s[0..n) unless the width is reached; then as much of it as fits,
 * cut on a character boundary. */
static void emit(struct ctx *c, const char *s, size_t n)
{
    if (c->full)
        return;
    size_t i = 0, chars = c->chars;
    for (; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) { /* a character starts */
            if (chars == c->lim->width) {
                sb_add(c->out, s, i);
                c->chars = chars;
                cut(c);
                return;
            }
            chars++;
        }
    }
    sb_add(c->out, s, n);
    c->chars = chars;
}

static void emits(struct ctx *c, const char *s) { emit(c, s, strlen(s)); }

/* Charges n bytes read; cuts the value when the budget is spent. */
static int charge(struct ctx *c, size_t n)
{
    if (c->budget < n) {
        c->budget = 0;
        cut(c);
        return 0;
    }
    c->budget -= n;
    return 1;
}

static void unreadable(struct ctx *c, uint64_t addr)
{
    char s[48];
    ft_error_clear();
    c->res->unreadable = 1;
    snprintf(s, sizeof s, "<unreadable 0x%llx>", (unsigned long long)addr);
    emits(c, s);
}

/* ---- types ---- */

static struct type_entry *type_of(struct ctx *c, uint64_t type)
{
    struct ft_render_cache *k = c->cache;
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].type == type)
            return &k->v[i];
    size_t at = k->n < TYPE_CACHE ? k->n++ : k->next++ % TYPE_CACHE;
    struct type_entry *e = &k->v[at];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->builtin = ft_builtin_of(c->r, type);
    return e;
}

/* A type's name comes from the target: escaped by the text rule like every
 * name, then cut to fit on a character boundary. */
static void safe_name(char *out, size_t n, const char *raw)
{
    struct strbuf sb;
    sb_init(&sb);
    ft_esc_text(&sb, raw, NULL);
    size_t len = sb.len < n - 1 ? sb.len : n - 1;
    while (len > 0 && len < sb.len && ((unsigned char)sb.data[len] & 0xC0) == 0x80)
        len--;
    memcpy(out, sb.data ? sb.data : "", len);
    out[len] = '\0';
    sb_free(&sb);
}

static const char *type_name(struct ctx *c, struct type_entry *e)
{
    if (e->builtin >= 0)
        return ft_builtin_names[e->builtin];
    if (!e->named) {
        e->named = 1;
        char raw[sizeof e->name];
        if (ft_type_name(c->r, e->type, raw, sizeof raw) < 0) {
            ft_error_clear();
            snprintf(raw, sizeof raw, "?");
        }
        safe_name(e->name, sizeof e->name, raw);
    }
    return e->name;
}

static void generic(struct ctx *c, struct type_entry *e, uint64_t addr)
{
    char s[128];
    snprintf(s, sizeof s, "<%s at 0x%llx>", type_name(c, e), (unsigned long long)addr);
    emits(c, s);
}

/* ---- scalars ---- */

static void render_int(struct ctx *c, uint64_t addr, int is_bool)
{
    const struct ft_consts *k = &c->r->layout->c;
    uint32_t digits[LONG_DIGITS_MAX];
    char text[INT_SHOWN_DIGITS + 64];
    int negative;
    uint64_t nd;
    unsigned shift = (unsigned)k->long_shift;
    size_t max = shift ? (size_t)(INT_SHOWN_DIGITS * 3322ull / 1000 / shift + 2) : 0;
    max = max < LONG_DIGITS_MAX ? max : LONG_DIGITS_MAX;
    int rc = ft_obj_long(c->r, addr, &negative, digits, max, &nd);
    if (rc < 0)
        return unreadable(c, addr);
    if (rc == FT_OBJ_ABSENT) {
        snprintf(text, sizeof text, "<int of about %llu decimal digits>",
                 (unsigned long long)(nd * shift * 30103ull / 100000 + 1));
        emits(c, text);
        c->res->truncated = 1;
        return;
    }
    charge(c, (size_t)nd * 4);
    if (is_bool) {
        emits(c, nd ? "True" : "False");
        return;
    }
    if (ft_long_decimal(digits, (size_t)nd, shift, negative, text, sizeof text) == (size_t)-1) {
        snprintf(text, sizeof text, "<int of about %llu decimal digits>",
                 (unsigned long long)(nd * shift * 30103ull / 100000 + 1));
        c->res->truncated = 1;
    }
    emits(c, text);
}

static void render_float(struct ctx *c, uint64_t addr)
{
    double v;
    char s[FT_FLOAT_REPR_MAX];
    if (ft_obj_float(c->r, addr, &v) < 0)
        return unreadable(c, addr);
    ft_float_repr(v, s);
    emits(c, s);
}

/* Characters still to write, plus one to see that there are more. */
static size_t room(const struct ctx *c) { return c->lim->width - c->chars + 1; }

static void render_str(struct ctx *c, uint64_t addr)
{
    size_t want = room(c);
    uint64_t length;
    int kind;
    unsigned char *units = malloc(want * 4);
    if (!units)
        return unreadable(c, addr);
    if (ft_obj_str_units(c->r, addr, &kind, &length, units, want) < 0) {
        free(units);
        return unreadable(c, addr);
    }
    size_t n = length < want ? (size_t)length : want;
    charge(c, n * (size_t)kind);
    char quote = ft_repr_quote_units(kind, units, n), q[2] = {quote, 0}, s[FT_REPR_CHAR_MAX];
    emits(c, q);
    for (size_t i = 0; i < n && !c->full; i++)
        emit(c, s, ft_repr_char(ft_repr_unit(kind, units, i), quote, s));
    if (n < length)
        cut(c);
    emits(c, q);
    free(units);
}

static void render_bytes(struct ctx *c, uint64_t addr)
{
    size_t want = room(c);
    uint64_t length;
    unsigned char *b = malloc(want);
    if (!b)
        return unreadable(c, addr);
    if (ft_obj_bytes(c->r, addr, b, want, &length) < 0) {
        free(b);
        return unreadable(c, addr);
    }
    size_t n = length < want ? (size_t)length : want;
    charge(c, n);
    char quote = ft_repr_quote_bytes(b, n), q[3] = {'b', quote, 0}, s[FT_REPR_CHAR_MAX];
    emits(c, q);
    for (size_t i = 0; i < n && !c->full; i++)
        emit(c, s, ft_repr_byte(b[i], quote, s));
    if (n < length)
        cut(c);
    emits(c, q + 1);
    free(b);
}

/* ---- containers ---- */

static void render_value(struct ctx *c, uint64_t addr);

/* Opens a container: 0 if it is already open (a cycle: `again` written)
 * or too deep (the generic form written). */
static int enter(struct ctx *c, struct type_entry *e, uint64_t addr, const char *again)
{
    for (unsigned i = 0; i < c->depth; i++)
        if (c->path[i] == addr) {
            emits(c, again);
            return 0;
        }
    if (c->depth >= c->lim->depth || c->depth >= PATH_MAX_DEPTH) {
        generic(c, e, addr);
        c->res->truncated = 1;
        return 0;
    }
    c->path[c->depth++] = addr;
    return 1;
}

static void leave(struct ctx *c) { c->depth--; }

/* After one step of a dict or set iterator (capped at the budget): what
 * it read is charged (*read reset) and how it ended shown; returns rc. */
static int spent(struct ctx *c, uint64_t *read, int rc, uint64_t addr)
{
    c->budget -= *read < c->budget ? *read : c->budget;
    *read = 0;
    if (rc == FT_ITER_SPENT)
        cut(c);
    else if (rc < 0)
        unreadable(c, addr);
    return rc;
}

/* ", ..." after the last item shown; 1 when no more items may be shown. */
static int enough(struct ctx *c, uint64_t shown)
{
    if (c->full)
        return 1;
    if (shown < c->lim->items)
        return 0;
    emits(c, ", ...");
    c->res->truncated = 1;
    return 1;
}

static void render_seq(struct ctx *c, struct type_entry *e, uint64_t addr)
{
    int tuple = e->builtin == FT_TYPE_TUPLE;
    uint64_t items, count, chunk[ITEM_CHUNK];
    if (ft_obj_items(c->r, addr, (enum ft_builtin_type)e->builtin, &items, &count) < 0)
        return unreadable(c, addr);
    if (!enter(c, e, addr, tuple ? "(...)" : "[...]"))
        return;
    emits(c, tuple ? "(" : "[");
    for (uint64_t i = 0; i < count && !enough(c, i); i++) {
        if (i % ITEM_CHUNK == 0) {
            uint64_t n = count - i < ITEM_CHUNK ? count - i : ITEM_CHUNK;
            if (!charge(c, (size_t)n * 8))
                break;
            if (ft_proc_read(c->r->proc, items + i * 8, chunk, (size_t)n * 8) < 0) {
                unreadable(c, items + i * 8);
                break;
            }
        }
        if (i)
            emits(c, ", ");
        render_value(c, chunk[i % ITEM_CHUNK]);
    }
    if (tuple && count == 1)
        emits(c, ",");
    emits(c, tuple ? ")" : "]");
    leave(c);
}

static void render_dict(struct ctx *c, struct type_entry *e, uint64_t addr)
{
    struct ft_dict_iter *it = malloc(sizeof *it);
    uint64_t k, v, n = 0;
    int rc;
    if (!it || ft_dict_iter_init(c->r, addr, it) < 0) {
        free(it);
        return unreadable(c, addr);
    }
    if (!enter(c, e, addr, "{...}")) {
        free(it);
        return;
    }
    emits(c, "{");
    /* entries skipped on the way (deleted ones) are charged too */
    while (!enough(c, n) && (it->read_max = it->read + c->budget, rc = ft_dict_iter_next(it, &k, &v),
                             spent(c, &it->read, rc, addr)) == 1) {
        if (n++)
            emits(c, ", ");
        render_value(c, k);
        emits(c, ": ");
        render_value(c, v);
    }
    emits(c, "}");
    leave(c);
    free(it);
}

static void render_set(struct ctx *c, struct type_entry *e, uint64_t addr)
{
    int frozen = e->builtin == FT_TYPE_FROZENSET;
    struct ft_set_iter *it = malloc(sizeof *it);
    uint64_t used, k, n = 0;
    int rc;
    if (!it || ft_set_iter_init(c->r, addr, it, &used) < 0) {
        free(it);
        return unreadable(c, addr);
    }
    if (!used) {
        emits(c, frozen ? "frozenset()" : "set()");
        free(it);
        return;
    }
    if (!enter(c, e, addr, frozen ? "frozenset(...)" : "{...}")) {
        free(it);
        return;
    }
    emits(c, frozen ? "frozenset({" : "{");
    while (!enough(c, n) && (it->read_max = it->read + c->budget, rc = ft_set_iter_next(it, &k),
                             spent(c, &it->read, rc, addr)) == 1) {
        if (n++)
            emits(c, ", ");
        render_value(c, k);
    }
    emits(c, frozen ? "})" : "}");
    leave(c);
    free(it);
}

static void render_value(struct ctx *c, uint64_t addr)
{
    uint64_t type;
    if (c->full || !charge(c, OBJ_CHARGE))
        return;
    if (ft_obj_type(c->r, addr, &type) < 0)
        return unreadable(c, addr);
    struct type_entry *e = type_of(c, type);
    switch (e->builtin) {
    case FT_TYPE_NONE: emits(c, "None"); break;
    case FT_TYPE_BOOL: render_int(c, addr, 1); break;
    case FT_TYPE_INT: render_int(c, addr, 0); break;
    case FT_TYPE_FLOAT: render_float(c, addr); break;
    case FT_TYPE_STR: render_str(c, addr); break;
    case FT_TYPE_BYTES: render_bytes(c, addr); break;
    case FT_TYPE_TUPLE:
    case FT_TYPE_LIST: render_seq(c, e, addr); break;
    case FT_TYPE_DICT: render_dict(c, e, addr); break;
    case FT_TYPE_SET:
    case FT_TYPE_FROZENSET: render_set(c, e, addr); break;
    default: generic(c, e, addr); break;
    }
}

void ft_render(struct ft_reader *r, struct ft_render_cache *cache, const struct ft_render_limits *lim,
               struct ft_ref ref, struct strbuf *out, struct ft_render_result *res)
{
    struct ft_render_cache local;
    struct ctx c = {.r = r, .cache = cache, .lim = lim, .out = out, .res = res, .budget = lim->bytes};
    char s[64];
    memset(res, 0, sizeof *res);
    if (!cache) {
        memset(&local, 0, sizeof local);
        c.cache = &local;
    }
    switch (ref.kind) {
    case FT_REF_NULL:
        emits(&c, "<NULL>");
        break;
    case FT_REF_INT: /* 3.14+ tagged int: the value is in the reference itself */
        snprintf(s, sizeof s, "%lld", (long long)ref.value);
        snprintf(res->type, sizeof res->type, "int");
        emits(&c, s);
        break;
    case FT_REF_INVALID:
        snprintf(s, sizeof s, "<invalid reference 0x%llx>", (unsigned long long)ref.addr);
        res->unreadable = 1;
        emits(&c, s);
        break;
    case FT_REF_OBJECT: {
        uint64_t type;
        if (ft_obj_type(r, ref.addr, &type) == 0)
            snprintf(res->type, sizeof res->type, "%s", type_name(&c, type_of(&c, type)));
        ft_error_clear();
        render_value(&c, ref.addr);
        break;
    }
    }
    if (c.full) /* cut by width or read budget: say so in the text too */
        sb_puts(out, "...");
}
