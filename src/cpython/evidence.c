/*
 * evidence.c - second reads that vouch for a stack (see evidence.h).
 * The field lists are built once per layout; the comparison is a table
 * lookup per item, so the check costs one syscall and a few memcmps.
 */
#include "evidence.h"

#include "code.h"
#include "../target/process.h"
#include "../util/error.h"

#include <stdlib.h>
#include <string.h>

static void add_field(struct ft_ev_fields *f, uint64_t off, uint8_t width)
{
    if (off == FT_ABSENT || f->n == FT_EV_FIELDS_MAX || off > UINT16_MAX)
        return;
    f->off[f->n] = (uint16_t)off;
    f->width[f->n++] = width;
}

void ft_ev_layout_init(struct ft_ev_layout *el, const struct ft_offsets *o, int ptr_size)
{
    memset(el, 0, sizeof *el);
    const uint8_t word = (uint8_t)ptr_size;
    el->word = word;
    struct ft_ev_fields *t = &el->tstate_frame;
    add_field(t, o->tstate_frame, word);
    add_field(t, o->tstate_cframe, word);
    add_field(t, o->tstate_current_frame, word);
    el->thread_id = o->tstate_thread_id;
    el->chunk = o->tstate_datastack_chunk;
    el->top = o->tstate_datastack_top;
    el->refcnt = o->ob_refcnt;

    struct ft_ev_fields *it = &el->kind[FT_EV_IFRAME_TOP];
    add_field(it, o->iframe_previous, word);
    add_field(it, o->iframe_executable, word);
    add_field(it, o->iframe_owner, 1);
    el->kind[FT_EV_IFRAME] = *it;
    add_field(&el->kind[FT_EV_IFRAME], o->iframe_instr, word);

    struct ft_ev_fields *pt = &el->kind[FT_EV_PYFRAME_TOP];
    add_field(pt, o->pyframe_back, word);
    add_field(pt, o->pyframe_code, word);
    el->kind[FT_EV_PYFRAME] = *pt;
    add_field(&el->kind[FT_EV_PYFRAME], o->pyframe_lasti, 4);
    add_field(&el->kind[FT_EV_PYFRAME], o->pyframe_state, 1);
}

void ft_evidence_reset(struct ft_evidence *ev)
{
    ev->n = 0;
    ev->overflow = 0;
    ev->live_mark = 0;
}

void ft_evidence_free(struct ft_evidence *ev)
{
    free(ev->v);
    free(ev->iov);
    free(ev->again);
    memset(ev, 0, sizeof *ev);
}

#define EV_MAX_ITEMS (1u << 16)

void ft_evidence_add(struct ft_evidence *ev, uint64_t addr, const void *seen, size_t len,
                     enum ft_ev_kind kind)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 64;
        struct ft_ev_item *v = cap <= EV_MAX_ITEMS ? realloc(ev->v, cap * sizeof *v) : NULL;
        if (v)
            ev->v = v;
        struct ft_remote_iov *iov = v ? realloc(ev->iov, cap * sizeof *iov) : NULL;
        if (!iov) {
            ev->overflow = 1;
            return;
        }
        ev->iov = iov;
        ev->cap = cap;
    }
    if (len > UINT32_MAX) {
        ev->overflow = 1;
        return;
    }
    ev->v[ev->n++] = (struct ft_ev_item){addr, seen, (uint32_t)len, (uint8_t)kind};
}

static int fields_same(const struct ft_ev_fields *f, const struct ft_ev_item *it,
                       const unsigned char *again)
{
    for (uint8_t i = 0; i < f->n; i++) {
        size_t off = f->off[i], w = f->width[i];
        if (off + w <= it->len && memcmp(it->seen + off, again + off, w) != 0)
            return 0;
    }
    return 1;
}

/* A pointer-sized field (el->word bytes) of a copy, 0 if outside it. */
static uint64_t word_at(const struct ft_ev_layout *el, const unsigned char *b, size_t len,
                        uint64_t off)
{
    uint64_t v = 0;
    if (off != FT_ABSENT && off + el->word <= len) {
        if (el->word == 4) {
            uint32_t w;
            memcpy(&w, b + off, 4);
            return w;
        }
        memcpy(&v, b + off, 8);
    }
    return v;
}

typedef int (*holds_fn)(const struct ft_ev_layout *el, const struct ft_evidence *ev,
                        const struct ft_ev_item *it, const unsigned char *again, int kind);

static int holds_bytes(const struct ft_ev_layout *el, const struct ft_evidence *ev,
                       const struct ft_ev_item *it, const unsigned char *again, int kind)
{
    (void)el, (void)ev, (void)kind;
    return memcmp(it->seen, again, it->len) == 0;
}

static int holds_fields(const struct ft_ev_layout *el, const struct ft_evidence *ev,
                        const struct ft_ev_item *it, const unsigned char *again, int kind)
{
    (void)ev;
    return fields_same(&el->kind[kind], it, again);
}

/* The innermost frame of a PyFrameObject chain must also still be alive. */
static int holds_pyframe_top(const struct ft_ev_layout *el, const struct ft_evidence *ev,
                             const struct ft_ev_item *it, const unsigned char *again, int kind)
{
    return holds_fields(el, ev, it, again, kind) &&
           (el->refcnt == FT_ABSENT || (el->word == 4 ? (int64_t)(int32_t)word_at(el, again, it->len, el->refcnt)
                                                 : (int64_t)word_at(el, again, it->len, el->refcnt)) > 0);
}

static int holds_tstate(const struct ft_ev_layout *el, const struct ft_evidence *ev,
                        const struct ft_ev_item *it, const unsigned char *again, int kind)
{
    (void)kind;
    if (word_at(el, it->seen, it->len, el->thread_id) != word_at(el, again, it->len, el->thread_id))
        return 0;
    if (el->top == FT_ABSENT)
        return 1; /* 3.8-3.10: frame objects vouch for themselves */
    if (!ev->live_mark)
        return fields_same(&el->tstate_frame, it, again);
    return word_at(el, it->seen, it->len, el->chunk) == word_at(el, again, it->len, el->chunk) &&
           word_at(el, again, it->len, el->top) >= ev->live_mark;
}

static const holds_fn holds[FT_EV_NKINDS] = {
    [FT_EV_BYTES] = holds_bytes,       [FT_EV_TSTATE] = holds_tstate,
    [FT_EV_IFRAME] = holds_fields,     [FT_EV_IFRAME_TOP] = holds_fields,
    [FT_EV_PYFRAME] = holds_fields,    [FT_EV_PYFRAME_TOP] = holds_pyframe_top,
};

static int in_mirror(const struct ft_mirror *m, const struct ft_ev_item *it)
{
    return m && m->start && it->seen >= m->start && it->len <= m->len &&
           (size_t)(it->seen - m->start) <= m->len - it->len;
}

static const char *kind_names[FT_EV_NKINDS] = {
    [FT_EV_BYTES] = "data stack", [FT_EV_TSTATE] = "thread's stack",
    [FT_EV_IFRAME] = "frame", [FT_EV_IFRAME_TOP] = "innermost frame",
    [FT_EV_PYFRAME] = "frame", [FT_EV_PYFRAME_TOP] = "innermost frame",
};

static int holds_item(const struct ft_reader *r, const struct ft_evidence *ev,
                      const struct ft_ev_item *it, const unsigned char *again)
{
    if (holds[it->kind](&r->ev_layout, ev, it, again, it->kind))
        return 1;
    ft_fail(FT_E_CORRUPT, "the %s at 0x%llx moved on while the stack was read",
            kind_names[it->kind], (unsigned long long)it->addr);
    return 0;
}

static int compare_all(const struct ft_reader *r, const struct ft_evidence *ev,
                       const struct ft_mirror *m)
{
    size_t off = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const struct ft_ev_item *it = &ev->v[i];
        if (!in_mirror(m, it)) {
            if (!holds_item(r, ev, it, ev->again + off))
                return 0;
            off += it->len;
            continue;
        }
        for (int k = 0; k < m->ncopies; k++)
            if (!holds_item(r, ev, it, it->seen + m->delta[k]))
                return 0;
    }
    return 1;
}

int ft_evidence_confirm(struct ft_reader *r, struct ft_evidence *ev, const struct ft_mirror *m)
{
    if (ev->overflow) {
        ft_fail(FT_E_CORRUPT, "stack too large to be confirmed while the process runs");
        return 0;
    }
    size_t total = 0, nread = 0;
    for (size_t i = 0; i < ev->n; i++)
        if (!in_mirror(m, &ev->v[i])) {
            total += ev->v[i].len;
            nread++;
        }
    if (nread) {
        if (total > ev->again_cap) {
            unsigned char *b = realloc(ev->again, total);
            if (!b) {
                ft_fail(FT_E_SYSTEM, "out of memory");
                return -1;
            }
            ev->again = b;
            ev->again_cap = total;
        }
        struct ft_remote_iov *iov = ev->iov;
        size_t k = 0, off = 0;
        for (size_t i = 0; i < ev->n; i++)
            if (!in_mirror(m, &ev->v[i])) {
                iov[k++] = (struct ft_remote_iov){ev->v[i].addr, ev->again + off, ev->v[i].len};
                off += ev->v[i].len;
            }
        int rc = ft_proc_readv(r->proc, iov, nread);
        if (rc < 0) {
            enum ft_errkind k2 = ft_error_kind();
            return (k2 == FT_E_EXITED || k2 == FT_E_PERM || k2 == FT_E_SYSTEM) ? -1 : 0;
        }
    }
    return compare_all(r, ev, m);
}
