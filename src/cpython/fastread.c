/*
 * fastread.c - speculative stack reads for sampling (see fastread.h).
 * A wrong guess costs one more read, never a wrong frame: everything read
 * speculatively is accepted only if the fresh thread state vouches for it,
 * and then goes through the same walkers and checks as any other read.
 */
#include "fastread.h"

#include "remote.h"
#include "stack_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK 1024                 /* bytes read past the last top: room to grow */
#define MAX_GUESS_FRAMES 256       /* 3.8-3.10: frames guessed per read */
#define TSTATE_MAX 1024

struct ft_fastread {
    /* 3.11+: the data-stack window read last time */
    uint64_t chunk, chunk_end, base;
    size_t len;
    uint64_t cframe;               /* 3.11-3.12 */
    uint64_t extra[WINDOW_EXTRAS]; /* frames outside the chunk, read along */
    size_t nextra;
    /* 3.8-3.10: the frame chain seen last time */
    uint64_t frames[MAX_GUESS_FRAMES];
    size_t nframes;
    unsigned char *buf;
    size_t cap;
    uint64_t misses;
    uint64_t retries;              /* reads tried twice because the first tore */
};

struct ft_fastread *ft_fastread_new(void) { return calloc(1, sizeof(struct ft_fastread)); }

void ft_fastread_free(struct ft_fastread *f)
{
    if (f)
        free(f->buf);
    free(f);
}

uint64_t ft_fastread_misses(const struct ft_fastread *f) { return f->misses; }

static int reserve(struct ft_fastread *f, size_t n)
{
    if (n <= f->cap)
        return 0;
    unsigned char *b = realloc(f->buf, n);
    if (!b)
        return -1;
    f->buf = b;
    f->cap = n;
    return 0;
}

/* Size of the chunk that starts at v->chunk, read when the chunk changes. */
static int learn_chunk(struct ft_reader *r, struct ft_fastread *f, uint64_t chunk)
{
    uint64_t size;
    if (ft_read_u64(r->proc, chunk + r->layout->off.stackchunk_size, &size) < 0)
        return -1;
    if (size > WINDOW_MAX || size <= r->layout->off.stackchunk_data) {
        ft_fail(FT_E_CORRUPT, "data-stack chunk of %llu bytes is implausible", (unsigned long long)size);
        return -1;
    }
    f->chunk = chunk;
    f->chunk_end = chunk + size;
    return 0;
}

/* Reads [base, top + SLACK) of the current chunk when the guess missed. */
static int reread_window(struct ft_reader *r, struct ft_fastread *f, const struct tstate_view *v)
{
    uint64_t base = v->chunk + r->layout->off.stackchunk_data;
    if (v->chunk != f->chunk && learn_chunk(r, f, v->chunk) < 0)
        return -1;
    if (v->top <= base || v->top > f->chunk_end) {
        ft_fail(FT_E_CORRUPT, "data-stack top outside its chunk");
        return -1;
    }
    uint64_t end = v->top + SLACK < f->chunk_end ? v->top + SLACK : f->chunk_end;
    if (reserve(f, TSTATE_MAX + (size_t)(end - base)) < 0 ||
        ft_proc_read(r->proc, base, f->buf + TSTATE_MAX, (size_t)(end - base)) < 0)
        return -1;
    f->base = base;
    f->len = (size_t)(end - base);
    f->misses++;
    return 0;
}

static enum walk_status read_iframes(struct ft_reader *r, struct ft_fastread *f, uint64_t tstate)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t span = ft_tstate_span(o), fspan = ft_iframe_span(o);
    uint64_t current = 0;
    size_t extras_at = TSTATE_MAX + f->len;
    if (span > TSTATE_MAX || reserve(f, extras_at + WINDOW_EXTRAS * fspan) < 0)
        return WALK_FATAL;
    /* Order matters: the kernel copies ranges one after the other, and
     * frames outside the chunk (running generators) change fastest, so they
     * are copied right after the thread state that points at them. */
    struct ft_remote_iov iov[3 + WINDOW_EXTRAS] = {{tstate, f->buf, span}};
    size_t n = 1, want = span;
    if (f->cframe)
        iov[n++] = (struct ft_remote_iov){f->cframe + o->cframe_current_frame, &current, 8};
    for (size_t i = 0; i < f->nextra; i++)
        iov[n++] = (struct ft_remote_iov){f->extra[i], f->buf + extras_at + i * fspan, fspan};
    if (f->len)
        iov[n++] = (struct ft_remote_iov){f->base, f->buf + TSTATE_MAX, f->len};
    for (size_t i = 0; i < n; i++)
        want += i ? iov[i].len : 0;
    ssize_t got = ft_proc_readv_partial(r->proc, iov, n);
    if (got < 0)
        return WALK_FATAL;
    if ((size_t)got < span) {
        ft_fail(FT_E_CORRUPT, "thread state at 0x%llx is not readable", (unsigned long long)tstate);
        return WALK_TORN;
    }
    int all = (size_t)got == want;
    struct tstate_view v;
    ft_tstate_parse(o, f->buf, span, &v);
    int window_ok = all && f->len && v.chunk == f->chunk && v.top > f->base &&
                    v.top <= f->base + f->len;
    if (v.cframe) {
        if (!(all && v.cframe == f->cframe) &&
            ft_read_u64(r->proc, v.cframe + o->cframe_current_frame, &current) < 0)
            return classify_failure();
        f->cframe = v.cframe;
        v.frame = current;
    }
    struct window w;
    memset(&w, 0, sizeof w);
    if (all)
        for (size_t i = 0; i < f->nextra; i++) {
            w.extra_addr[w.nextra] = f->extra[i];
            w.extra_bytes[w.nextra++] = f->buf + extras_at + i * fspan;
        }
    if (!window_ok && v.chunk) {
        w.nextra = 0; /* the buffer may move: extras are read afresh */
        if (reread_window(r, f, &v) < 0)
            return classify_failure();
    }
    w.base = f->base;
    w.len = v.chunk ? (size_t)(v.top - f->base) : 0;
    w.bytes = f->buf + TSTATE_MAX;
    enum walk_status st = ft_walk_iframes(r, &w, v.frame, &r->scratch->raw);
    if (w.nmissed) {
        f->misses++;
        memcpy(f->extra, w.missed, w.nmissed * sizeof *w.missed);
        f->nextra = w.nmissed;
    }
    return st;
}

/* 3.8-3.10: read the thread state and last time's frames in one go; keep
 * the frames as long as the chain links up, walk the rest as usual. */
static enum walk_status read_pyframes(struct ft_reader *r, struct ft_fastread *f, uint64_t tstate)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t span = ft_tstate_span(o);
    size_t fspan = (size_t)(o->pyframe_lasti > o->pyframe_back ? o->pyframe_lasti : o->pyframe_back) + 8;
    size_t need = TSTATE_MAX + f->nframes * fspan;
    if (span > TSTATE_MAX || reserve(f, need) < 0)
        return WALK_FATAL;
    struct ft_remote_iov iov[1 + MAX_GUESS_FRAMES] = {{tstate, f->buf, span}};
    for (size_t i = 0; i < f->nframes; i++)
        iov[1 + i] = (struct ft_remote_iov){f->frames[i], f->buf + TSTATE_MAX + i * fspan, fspan};
    ssize_t got = ft_proc_readv_partial(r->proc, iov, 1 + f->nframes);
    if (got < 0)
        return WALK_FATAL;
    if ((size_t)got < span) {
        ft_fail(FT_E_CORRUPT, "thread state at 0x%llx is not readable", (unsigned long long)tstate);
        return WALK_TORN;
    }
    struct tstate_view v;
    ft_tstate_parse(o, f->buf, span, &v);
    struct raw_stack *s = &r->scratch->raw;
    size_t arrived = ((size_t)got - span) / fspan, i = 0;
    uint64_t frame = v.frame;
    struct cycle_check cc = {0, 1, 0};
    for (; i < arrived && frame == f->frames[i] && s->n < FT_MAX_DEPTH; i++) {
        const unsigned char *b = f->buf + TSTATE_MAX + i * fspan;
        int32_t lasti = ft_i32_in(b, fspan, o->pyframe_lasti);
        int64_t offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)r->layout->c.lasti_unit;
        uint64_t code = ft_u64_in(b, fspan, o->pyframe_code);
        s->v[s->n++] = (struct raw_frame){code, offset, frame};
        frame = ft_u64_in(b, fspan, o->pyframe_back);
        if (!frame && ft_is_cached_generator(r, code)) {
            /* a generator caught between yields: let the walker re-read it */
            s->n--;
            frame = f->frames[i];
            break;
        }
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    if (frame && (i < f->nframes || i == MAX_GUESS_FRAMES || !f->nframes))
        f->misses++;
    enum walk_status st = frame ? ft_walk_pyframes(r, frame, s) : WALK_OK;
    f->nframes = s->n < MAX_GUESS_FRAMES ? s->n : MAX_GUESS_FRAMES;
    for (size_t k = 0; k < f->nframes; k++)
        f->frames[k] = s->v[k].addr;
    return st;
}

static enum walk_status read_once(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t,
                                  uint64_t round, uint64_t trust_rounds)
{
    ft_error_clear();
    r->scratch->raw.n = 0;
    r->scratch->raw.truncated = 0;
    r->scratch->raw.strict = 1;
    enum walk_status st = r->layout->off.pyframe_back != FT_ABSENT ? read_pyframes(r, f, t->tstate)
                                                                    : read_iframes(r, f, t->tstate);
    return st == WALK_OK ? ft_resolve_frames(r, t, round, trust_rounds) : st;
}

/* A read that tore (the stack moved between the copies of one syscall:
 * code that pushes and pops tiny frames tears ~10% of reads) is tried
 * again, up to FAST_TRIES in all: the guess usually still holds, so each try
 * is one syscall, and the stack is then a few microseconds younger, which a
 * sampler does not mind. Tears come in runs, so one retry is not enough.
 * The last tear is an error sample. */
#define FAST_TRIES 4
int ft_fastread_stack(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t,
                      uint64_t round, uint64_t trust_rounds)
{
    if (ft_walk_scratch_ensure(r) < 0)
        return -1;
    t->error[0] = '\0';
    enum walk_status st = read_once(r, f, t, round, trust_rounds);
    for (int i = 1; st == WALK_TORN && i < FAST_TRIES; i++) {
        f->retries++;
        st = read_once(r, f, t, round, trust_rounds);
    }
    if (st == WALK_FATAL)
        return -1;
    if (st == WALK_TORN) {
        snprintf(t->error, sizeof t->error, "stack changed while being read: %s", ft_error_message());
        f->len = 0;        /* guess afresh next time */
        f->nframes = 0;
        f->nextra = 0;
        ft_error_clear();
    }
    return 0;
}
