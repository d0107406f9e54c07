/*
 * locals.c - a frame's arguments and locals (see locals.h).
 *
 * Slot i of a frame belongs to name i of its code object. Up to 3.10 the
 * names are co_varnames (arguments first, then the other locals), then
 * co_cellvars, then co_freevars; an argument that inner functions use is
 * moved into its cell when the frame starts (co_cell2arg says which), its
 * own slot left NULL. From 3.11 there is one list, co_localsplusnames, with
 * a kind byte per slot (CO_FAST_LOCAL, CELL, FREE, HIDDEN); an argument
 * that is a cell keeps its slot, wrapped in a cell by MAKE_CELL. Either way
 * the arguments are the first co_argcount + co_kwonlyargcount slots, then
 * *args and **kwargs where co_flags has them.
 */
#include "locals.h"

#include "../util/error.h"
#include "objects.h"
#include "remote.h"

#include <stdlib.h>
#include <string.h>

const char *const ft_local_kind_names[] = {
    [FT_LOCAL_POSITIONAL] = "positional",     [FT_LOCAL_KEYWORD_ONLY] = "keyword_only",
    [FT_LOCAL_VAR_POSITIONAL] = "var_positional", [FT_LOCAL_VAR_KEYWORD] = "var_keyword",
    [FT_LOCAL_PLAIN] = "local",               [FT_LOCAL_CELL] = "cell",
    [FT_LOCAL_FREE] = "free",
};

/* What the code object says about its slots. */
struct code_slots {
    size_t n;                     /* slots */
    char **names;                 /* n names */
    uint8_t *kinds;               /* 3.11+: n kind bytes */
    size_t nlocals, ncells;       /* <=3.10: co_nlocals, len(co_cellvars) */
    int64_t *cell2arg;            /* <=3.10: ncells entries, or NULL */
    size_t npos, nkwonly;         /* co_argcount, co_kwonlyargcount */
    int varargs, varkw;
};

static void slots_free(struct code_slots *s)
{
    for (size_t i = 0; s->names && i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->kinds);
    free(s->cell2arg);
    memset(s, 0, sizeof *s);
}

static int bad(const char *what)
{
    ft_fail(FT_E_CORRUPT, "%s", what);
    return -1;
}

/* Appends the str items of tuple `tuple` to s->names (at s->n on). */
static int read_names(struct ft_reader *r, uint64_t tuple, struct code_slots *s, size_t *count)
{
    uint64_t items, n;
    char buf[FT_NAME_MAX * 4 + 1];
    if (ft_obj_items(r, tuple, FT_TYPE_TUPLE, &items, &n) < 0)
        return -1;
    if (n > FT_LOCALS_MAX - s->n)
        return bad("a code object with more names than frametap reads");
    uint64_t *ptrs = malloc((size_t)(n ? n : 1) * 8);
    char **names = realloc(s->names, (s->n + (size_t)n + 1) * sizeof *names);
    if (!ptrs || !names) {
        free(ptrs);
        if (names)
            s->names = names;
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    s->names = names;
    if (n && ft_proc_read(r->proc, items, ptrs, (size_t)n * 8) < 0) {
        free(ptrs);
        return -1;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (ft_obj_str(r, ptrs[i], buf, sizeof buf) < 0) {
            free(ptrs);
            return -1;
        }
        if (!(s->names[s->n] = strdup(buf))) {
            free(ptrs);
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        s->n++;
    }
    free(ptrs);
    *count = (size_t)n;
    return 0;
}

static int arg_counts(const struct ft_offsets *o, const struct ft_consts *c, const unsigned char *h,
                      size_t hn, struct code_slots *s)
{
    int32_t pos = ft_i32_in(h, hn, o->code_argcount), kw = ft_i32_in(h, hn, o->code_kwonlyargcount);
    uint32_t flags = (uint32_t)ft_i32_in(h, hn, o->code_flags);
    if (pos < 0 || kw < 0 || pos > FT_LOCALS_MAX || kw > FT_LOCALS_MAX)
        return bad("a code object with impossible argument counts");
    s->npos = (size_t)pos;
    s->nkwonly = (size_t)kw;
    s->varargs = (flags & c->co_varargs) != 0;
    s->varkw = (flags & c->co_varkeywords) != 0;
    return 0;
}

/* <=3.10: co_varnames, co_cellvars, co_freevars, co_cell2arg. */
static int slots_by_tuples(struct ft_reader *r, const unsigned char *h, size_t hn, struct code_slots *s)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t nvars, nfree;
    int32_t nlocals = ft_i32_in(h, hn, o->code_nlocals);
    if (read_names(r, ft_u64_in(h, hn, o->code_varnames), s, &nvars) < 0 ||
        read_names(r, ft_u64_in(h, hn, o->code_cellvars), s, &s->ncells) < 0 ||
        read_names(r, ft_u64_in(h, hn, o->code_freevars), s, &nfree) < 0)
        return -1;
    if (nlocals < 0 || (size_t)nlocals != nvars)
        return bad("co_nlocals differs from len(co_varnames)");
    s->nlocals = nvars;
    uint64_t cell2arg = ft_u64_in(h, hn, o->code_cell2arg);
    if (cell2arg && s->ncells) {
        if (!(s->cell2arg = malloc(s->ncells * sizeof *s->cell2arg))) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        if (ft_proc_read(r->proc, cell2arg, s->cell2arg, s->ncells * sizeof *s->cell2arg) < 0)
            return -1;
    }
    return 0;
}

/* 3.11+: co_localsplusnames and co_localspluskinds. */
static int slots_by_kinds(struct ft_reader *r, const unsigned char *h, size_t hn, struct code_slots *s)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t n;
    uint64_t len;
    if (read_names(r, ft_u64_in(h, hn, o->code_localsplusnames), s, &n) < 0)
        return -1;
    if (!(s->kinds = malloc(n ? n : 1))) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    if (ft_obj_bytes(r, ft_u64_in(h, hn, o->code_localspluskinds), s->kinds, n, &len) < 0)
        return -1;
    if (len != n)
        return bad("co_localspluskinds differs in length from co_localsplusnames");
    return 0;
}

static int code_slots(struct ft_reader *r, uint64_t code, struct code_slots *s)
{
    const struct ft_offsets *o = &r->layout->off;
    unsigned char head[FT_CODE_HEAD_MAX];
    size_t hn = ft_code_head_size(r->layout);
    uint64_t need = o->code_localsplusnames != FT_ABSENT ? o->code_localspluskinds : o->code_cell2arg;
    memset(s, 0, sizeof *s);
    if (need == FT_ABSENT || need + 8 > hn || o->code_argcount + 4 > hn) {
        ft_fail(FT_E_VERSION, "this layout does not say where a code object's names are");
        return -1;
    }
    if (ft_proc_read(r->proc, code, head, hn) < 0)
        return -1;
    if (!ft_is_builtin_type(r, FT_TYPE_CODE, ft_u64_in(head, hn, o->ob_type)))
        return bad("the frame's code is no longer a code object");
    if (arg_counts(o, &r->layout->c, head, hn, s) < 0)
        return -1;
    int rc = o->code_localsplusnames != FT_ABSENT ? slots_by_kinds(r, head, hn, s)
                                                  : slots_by_tuples(r, head, hn, s);
    if (rc == 0 && s->npos + s->nkwonly + (size_t)s->varargs + (size_t)s->varkw >
                       (s->kinds ? s->n : s->nlocals))
        return bad("a code object with more arguments than locals");
    return rc;
}

static enum ft_local_kind arg_kind(const struct code_slots *s, size_t i)
{
    if (i < s->npos)
        return FT_LOCAL_POSITIONAL;
    i -= s->npos;
    if (i < s->nkwonly)
        return FT_LOCAL_KEYWORD_ONLY;
    i -= s->nkwonly;
    if (s->varargs && i == 0)
        return FT_LOCAL_VAR_POSITIONAL;
    return FT_LOCAL_VAR_KEYWORD;
}

static int is_arg(const struct code_slots *s, size_t i)
{
    return i < s->npos + s->nkwonly + (size_t)s->varargs + (size_t)s->varkw;
}

/* The value behind a slot's bits: the cell's content for a cell slot
 * (once MAKE_CELL has run: before, the slot still holds the value). */
static struct ft_ref slot_value(struct ft_reader *r, uint64_t bits, int in_cell)
{
    struct ft_ref v = ft_ref_decode(r->layout, bits);
    uint64_t type, content;
    if (!in_cell || v.kind != FT_REF_OBJECT)
        return v;
    if (ft_obj_type(r, v.addr, &type) < 0 || ft_builtin_of(r, type) != FT_TYPE_CELL) {
        ft_error_clear();
        return v;
    }
    if (ft_obj_cell(r, v.addr, &content) < 0) {
        ft_error_clear();
        return (struct ft_ref){FT_REF_INVALID, v.addr, 0};
    }
    return (struct ft_ref){content ? FT_REF_OBJECT : FT_REF_NULL, content, 0};
}

static int add_local(struct ft_reader *r, struct ft_render_cache *cache, const struct ft_render_limits *lim,
                     struct ft_frame_locals *out, const char *name, enum ft_local_kind kind, int in_cell,
                     struct ft_ref v)
{
    struct ft_local *l = &out->v[out->n];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->in_cell = in_cell;
    l->set = v.kind != FT_REF_NULL;
    if (!(l->name = strdup(name))) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    if (l->set) {
        struct strbuf sb;
        sb_init(&sb);
        ft_render(r, cache, lim, v, &sb, &l->info);
        sb_add(&sb, "", 1);
        l->value = sb.data; /* the buffer is handed over */
    }
    out->n++;
    return 0;
}

/* <=3.10: fast locals, then cells (an argument's cell shown as that
 * argument), then free variables. */
static int fill_by_tuples(struct ft_reader *r, struct ft_render_cache *cache,
                          const struct ft_render_limits *lim, const struct code_slots *s,
                          const uint64_t *slots, struct ft_frame_locals *out)
{
    const struct ft_consts *c = &r->layout->c;
    for (size_t i = 0; i < s->nlocals; i++) {
        int in_cell = 0;
        uint64_t bits = slots[i];
        for (size_t j = 0; s->cell2arg && j < s->ncells; j++)
            if ((uint64_t)s->cell2arg[j] != c->cell_not_an_arg && (uint64_t)s->cell2arg[j] == i) {
                in_cell = 1;
                bits = slots[s->nlocals + j];
            }
        enum ft_local_kind kind = is_arg(s, i) ? arg_kind(s, i) : FT_LOCAL_PLAIN;
        if (add_local(r, cache, lim, out, s->names[i], kind, in_cell, slot_value(r, bits, in_cell)) < 0)
            return -1;
    }
    for (size_t i = s->nlocals; i < s->n; i++) {
        size_t j = i - s->nlocals;
        if (j < s->ncells && s->cell2arg && (uint64_t)s->cell2arg[j] != c->cell_not_an_arg)
            continue; /* shown as its argument */
        enum ft_local_kind kind = j < s->ncells ? FT_LOCAL_CELL : FT_LOCAL_FREE;
        if (add_local(r, cache, lim, out, s->names[i], kind, 1, slot_value(r, slots[i], 1)) < 0)
            return -1;
    }
    return 0;
}

/* 3.11+: one slot per name, its kind byte saying what it is. */
static int fill_by_kinds(struct ft_reader *r, struct ft_render_cache *cache,
                         const struct ft_render_limits *lim, const struct code_slots *s,
                         const uint64_t *slots, struct ft_frame_locals *out)
{
    const struct ft_consts *c = &r->layout->c;
    for (size_t i = 0; i < s->n; i++) {
        uint8_t k = s->kinds[i];
        int in_cell = (k & (c->fast_cell | c->fast_free)) != 0;
        enum ft_local_kind kind = is_arg(s, i)          ? arg_kind(s, i)
                                : (k & c->fast_free)    ? FT_LOCAL_FREE
                                : (k & c->fast_cell)    ? FT_LOCAL_CELL
                                                        : FT_LOCAL_PLAIN;
        struct ft_ref v = slot_value(r, slots[i], in_cell);
        if ((k & c->fast_hidden) && v.kind == FT_REF_NULL)
            continue; /* an inlined comprehension's variable, not running now */
        if (add_local(r, cache, lim, out, s->names[i], kind, in_cell, v) < 0)
            return -1;
    }
    return 0;
}

static int frame_slots(struct ft_reader *r, const struct ft_frame *f, size_t n, uint64_t *slots)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t at = o->pyframe_localsplus != FT_ABSENT ? o->pyframe_localsplus : o->iframe_localsplus;
    if (at == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "this layout does not say where a frame's locals are");
        return -1;
    }
    return n ? ft_proc_read(r->proc, f->addr + at, slots, n * 8) : 0;
}

int ft_read_locals(struct ft_reader *r, struct ft_render_cache *cache,
                   const struct ft_render_limits *lim, const struct ft_frame *f,
                   struct ft_frame_locals *out)
{
    struct code_slots s;
    uint64_t *slots = NULL;
    memset(out, 0, sizeof *out);
    ft_error_clear();
    int rc = code_slots(r, f->code->addr, &s);
    if (rc == 0 && (!(slots = malloc((s.n ? s.n : 1) * 8)) || !(out->v = calloc(s.n ? s.n : 1, sizeof *out->v)))) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = frame_slots(r, f, s.n, slots);
    if (rc == 0)
        rc = s.kinds ? fill_by_kinds(r, cache, lim, &s, slots, out)
                     : fill_by_tuples(r, cache, lim, &s, slots, out);
    free(slots);
    slots_free(&s);
    if (rc == 0)
        return 0;
    enum ft_errkind k = ft_error_kind();
    snprintf(out->error, sizeof out->error, "%s", ft_error_message());
    ft_error_clear();
    return k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM ? -1 : 0;
}

void ft_frame_locals_free(struct ft_frame_locals *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

int ft_snapshot_locals(struct ft_reader *r, const struct ft_snapshot *s,
                       const struct ft_render_limits *lim, int while_running,
                       struct ft_snapshot_locals *out)
{
    struct ft_render_cache *cache = ft_render_cache_new();
    memset(out, 0, sizeof *out);
    out->while_running = while_running;
    out->threads = calloc(s->nthreads ? s->nthreads : 1, sizeof *out->threads);
    out->nframes = calloc(s->nthreads ? s->nthreads : 1, sizeof *out->nframes);
    if (!cache || !out->threads || !out->nframes) {
        ft_render_cache_free(cache);
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    out->nthreads = s->nthreads;
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct ft_thread *t = &s->threads[i];
        if (t->error[0])
            continue;
        if (!(out->threads[i] = calloc(t->nframes ? t->nframes : 1, sizeof **out->threads))) {
            ft_render_cache_free(cache);
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        out->nframes[i] = t->nframes;
        for (size_t j = 0; j < t->nframes; j++)
            if (ft_read_locals(r, cache, lim, &t->frames[j], &out->threads[i][j]) < 0) {
                ft_render_cache_free(cache);
                return -1;
            }
    }
    ft_render_cache_free(cache);
    return 0;
}

void ft_snapshot_locals_free(struct ft_snapshot_locals *l)
{
    for (size_t i = 0; l->threads && i < l->nthreads; i++) {
        for (size_t j = 0; l->threads[i] && j < l->nframes[i]; j++)
            ft_frame_locals_free(&l->threads[i][j]);
        free(l->threads[i]);
    }
    free(l->threads);
    free(l->nframes);
    memset(l, 0, sizeof *l);
}
