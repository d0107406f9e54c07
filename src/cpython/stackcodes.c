/*
 * stackcodes.c - the code objects of one stack read: numbered, checked
 * against the target the way the version allows (see code.h), and turned
 * into frames with lines.
 *
 * A check uses bytes a speculative read already holds (struct ft_code_pre)
 * when it can, else reads them in batches. It never trusts an entry just
 * because it was right a moment ago: the address may hold other code now.
 * Checks may come after the frames' second copy (nothing they vouch for can
 * change that fast); an object decoded afresh may not, so the caller is
 * told of a decode and reads the stack again.
 */
#include "stack_internal.h"

#include "remote.h"

#include <stdlib.h>
#include <string.h>

/* Numbers the distinct code objects of the raw stack's first n frames
 * (w->distinct) and maps each frame to its number (w->index), with a hash
 * table cleared per call. */
static size_t number_codes(struct ft_walk_scratch *w, size_t n)
{
    const struct raw_stack *s = &w->raw;
    size_t nslots = 64, ndistinct = 0;
    while (nslots < 2 * n)
        nslots *= 2;
    memset(w->slots, 0, nslots * sizeof *w->slots);
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = s->v[i].code;
        size_t j = (size_t)((addr >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (nslots - 1);
        while (w->slots[j] && w->distinct[w->slots[j] - 1] != addr)
            j = (j + 1) & (nslots - 1);
        if (!w->slots[j]) {
            w->distinct[ndistinct++] = addr;
            w->slots[j] = (uint32_t)ndistinct;
        }
        w->index[i] = w->slots[j] - 1;
    }
    w->ndistinct = ndistinct;
    return ndistinct;
}

static const unsigned char *pre_head(const struct ft_code_pre *pre, uint64_t addr, size_t hsize)
{
    for (size_t i = 0; pre && i < pre->nheads; i++)
        if (pre->head_addr[i] == addr)
            return pre->heads + i * hsize;
    return NULL;
}

static const unsigned char *pre_str(const struct ft_code_pre *pre, const struct ft_code_str *s)
{
    for (size_t i = 0; pre && i < pre->nstrs; i++)
        if (pre->str_addr[i] == s->addr && pre->str_len[i] == s->len)
            return pre->strs + i * FT_STR_CHECK_MAX;
    return NULL;
}

/* The code generation, read after the frames (3.14+). */
static int generation_now(struct ft_reader *r, const struct ft_thread *t,
                          const struct ft_code_pre *pre, uint64_t *gen)
{
    if (pre && pre->have_generation) {
        *gen = pre->generation;
        return 0;
    }
    return ft_read_u64(r->proc, t->interp + r->layout->off.interp_code_generation, gen);
}

/* 3.8-3.11: the entry matched by its head; now its names and table must
 * match byte for byte, else the object at its address is decoded afresh. */
static struct ft_code *check_content(struct ft_reader *r, struct ft_code *e,
                                     const unsigned char *head, size_t hsize,
                                     const struct ft_code_pre *pre)
{
    unsigned char again[FT_STR_CHECK_MAX];
    for (int i = 0; i < FT_CODE_NSTR; i++) {
        const struct ft_code_str *s = &e->strs[i];
        if (!s->addr)
            continue;
        const unsigned char *b = pre_str(pre, s);
        if (!b) {
            if (ft_proc_read(r->proc, s->addr, again, s->len) < 0)
                return NULL;
            b = again;
        }
        if (!ft_code_str_same(e, i, b))
            return ft_code_redecode(r, e, head, hsize);
    }
    return e;
}

static struct ft_code *check_head(struct ft_reader *r, uint64_t addr, const unsigned char *head,
                                  size_t hsize, const struct ft_code_pre *pre)
{
    int content;
    struct ft_code *e = ft_code_from_head(r, addr, head, hsize, &content);
    if (e && content)
        e = check_content(r, e, head, hsize, pre);
    return e;
}

/* Checks each distinct code: by generation where it has not moved (3.14+),
 * else by its head (from pre, or read in batches) and, 3.8-3.11, content. */
static enum walk_status check_codes(struct ft_reader *r, const struct ft_thread *t, size_t ndistinct,
                                    const struct ft_code_pre *pre, int *decoded)
{
    struct ft_walk_scratch *w = r->scratch;
    size_t hsize = ft_code_head_size(r->layout);
    uint64_t gen = 0, misses = r->misses;
    int by_gen = r->check == FT_CHECK_GENERATION && t->interp;
    if (by_gen && generation_now(r, t, pre, &gen) < 0)
        return classify_failure();
    size_t pending[HEAD_BATCH], npending = 0;
    for (size_t i = 0; i <= ndistinct; i++) {
        if (i < ndistinct) {
            struct ft_code *c = by_gen ? ft_code_peek(r, w->distinct[i]) : NULL;
            const unsigned char *head;
            if (c && c->generation == gen) {
                w->codes[i] = c;
            } else if ((head = pre_head(pre, w->distinct[i], hsize)) != NULL) {
                if (!(w->codes[i] = check_head(r, w->distinct[i], head, hsize, pre)))
                    return classify_failure();
                w->codes[i]->generation = gen;
            } else {
                pending[npending++] = i;
            }
        }
        if (npending == HEAD_BATCH || (i == ndistinct && npending)) {
            struct ft_remote_iov iov[HEAD_BATCH];
            for (size_t k = 0; k < npending; k++)
                iov[k] = (struct ft_remote_iov){w->distinct[pending[k]], w->heads[k], hsize};
            if (ft_proc_readv(r->proc, iov, npending) < 0)
                return classify_failure();
            for (size_t k = 0; k < npending; k++) {
                struct ft_code *c = check_head(r, w->distinct[pending[k]], w->heads[k], hsize, pre);
                if (!c)
                    return classify_failure();
                c->generation = gen;
                w->codes[pending[k]] = c;
            }
            npending = 0;
        }
    }
    *decoded = r->misses != misses;
    return WALK_OK;
}

/* A complete stack ends where the thread's Python code began: at an entry
 * frame on 3.11+ (a shim below the outermost frame on 3.12+, is_entry on
 * 3.11); before 3.11, at least not inside a generator, whose link to its
 * caller is cleared whenever it yields. A read that raced a yield ends
 * early, at the generator's frame, and would look like a short stack. */
static int stack_complete(const struct ft_reader *r, const struct raw_stack *s,
                          const struct ft_walk_scratch *w)
{
    if (r->layout->off.pyframe_back == FT_ABSENT)
        return s->ends_at_entry;
    const struct ft_code *bottom = w->codes[w->index[s->n - 1]];
    return !(bottom->flags & r->layout->c.generator_flags);
}

/* FRAMETAP_CHECK_MEMO: the frames taken as known, resolved in full. 1:
 * they agree, 0: they do not, -1: the codes could not be read again. */
static int known_agree(struct ft_reader *r, const struct ft_thread *t, const struct ft_code_pre *pre,
                       const struct ft_frame *frames, size_t from)
{
    struct ft_walk_scratch *w = r->scratch;
    const struct raw_stack *s = &w->raw;
    int decoded = 0;
    if (check_codes(r, t, number_codes(w, s->n), pre, &decoded) != WALK_OK) {
        ft_error_clear();
        return -1;
    }
    if (decoded)
        return 0;
    for (size_t i = from; i < s->n; i++) {
        struct ft_code *code = w->codes[w->index[i]];
        if (frames[i].code != code || frames[i].addr != s->v[i].addr ||
            frames[i].line != ft_code_line(code, r->layout->linetable, s->v[i].offset))
            return 0;
    }
    return 1;
}

enum walk_status ft_resolve_frames(struct ft_reader *r, struct ft_thread *t,
                                   const struct ft_code_pre *pre, int *decoded)
{
    struct ft_walk_scratch *w = r->scratch;
    struct raw_stack *s = &w->raw;
    /* frames the last read resolved are taken as they were: the caller
     * vouches that their codes were neither freed nor decoded since; a
     * decode now (which may evict one) makes every frame resolved anew */
    size_t from = pre && pre->known && pre->known_from <= s->n ? pre->known_from : s->n;
    enum walk_status st = check_codes(r, t, number_codes(w, from), pre, decoded);
    if (st == WALK_OK && *decoded && from < s->n) {
        from = s->n;
        int again = 0;
        st = check_codes(r, t, number_codes(w, from), pre, &again);
    }
    if (st == WALK_OK && s->n && !s->truncated && !stack_complete(r, s, w)) {
        ft_fail(FT_E_CORRUPT, "stack ended early, at a generator between a yield and a resume, "
                "or at a frame being linked in");
        st = WALK_TORN;
    }
    if (st != WALK_OK)
        return st;
    struct ft_frame *frames = malloc((s->n ? s->n : 1) * sizeof *frames);
    if (!frames) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return WALK_FATAL;
    }
    if (from < s->n)
        memcpy(frames + from, pre->known, (s->n - from) * sizeof *frames);
    int agreed = from < s->n && w->check_memo ? known_agree(r, t, pre, frames, from) : -1;
    if (agreed >= 0)
        ft_walklog_checked(agreed, MEMO_CHECK_RESOLUTION);
    for (size_t i = 0; i < from; i++) {
        struct ft_code *code = w->codes[w->index[i]];
        int64_t offset = s->v[i].offset;
        if (offset >= code->code_bytes || offset < -2) {
            ft_fail(FT_E_CORRUPT, "instruction offset %lld is outside %s (%lld bytes)",
                    (long long)offset, code->qualname, (long long)code->code_bytes);
            free(frames);
            return WALK_TORN;
        }
        frames[i] = (struct ft_frame){code, ft_code_line(code, r->layout->linetable, offset),
                                      s->v[i].addr};
    }
    t->frames = frames;
    t->nframes = s->n;
    t->truncated = s->truncated;
    return WALK_OK;
}
