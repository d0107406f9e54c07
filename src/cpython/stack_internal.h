/*
 * stack_internal.h - what the stack readers share inside src/cpython: raw
 * frames, the data-stack window, walker scratch memory, tear classification
 * and cycle checks. Not for layers above the cpython model.
 */
#ifndef FT_STACK_INTERNAL_H
#define FT_STACK_INTERNAL_H

#include "../util/error.h"
#include "walk.h"

enum walk_status { WALK_OK = 0, WALK_TORN = 1, WALK_FATAL = -1 };

/* A frame as found in memory, before its code object is checked. */
struct raw_frame {
    uint64_t code;
    int64_t offset;               /* byte offset of the current instruction */
    uint64_t addr;                /* where the frame itself lives */
};

struct raw_stack {
    struct raw_frame v[FT_MAX_DEPTH];
    size_t n;
    int truncated;
    int ends_at_entry;            /* 3.11+: the chain ended at an entry frame */
    int strict;                   /* running target: an unfinished chain is torn */
};

#define WINDOW_EXTRAS 4
#define WINDOW_MAX (16u << 20)    /* largest data-stack window copied */

/* A local copy of the used part of a thread's data stack (3.11+), so that
 * a whole stack of frames costs one read; plus copies of a few frames that
 * live elsewhere (entry frames on the C stack, 3.15's base frame in the
 * thread state), and a note of the frames that had to be read one by one. */
struct window {
    uint64_t base;
    size_t len;
    const unsigned char *bytes;
    uint64_t extra_addr[WINDOW_EXTRAS];
    const unsigned char *extra_bytes[WINDOW_EXTRAS];
    size_t nextra;
    uint64_t missed[WINDOW_EXTRAS];
    size_t nmissed;
};

#define HEAD_BATCH (FT_MAX_DEPTH / 16)

struct ft_walk_scratch {
    struct raw_stack raw;
    unsigned char *window;
    size_t window_cap;
    uint64_t distinct[FT_MAX_DEPTH];
    struct ft_code *codes[FT_MAX_DEPTH];
    uint32_t index[FT_MAX_DEPTH];           /* raw frame -> distinct code */
    uint32_t slots[2 * FT_MAX_DEPTH];       /* distinct-code hash: index+1, 0 empty */
    unsigned char heads[HEAD_BATCH][FT_CODE_HEAD_MAX]; /* per batch */
};

struct cycle_check {
    uint64_t tortoise;
    size_t power, lambda;
};

/* Brent: returns 1 once `addr` repeats an earlier address of the chain. */
static inline int cycle_seen(struct cycle_check *c, uint64_t addr)
{
    if (addr == c->tortoise)
        return 1;
    if (++c->lambda == c->power) {
        c->tortoise = addr;
        c->power *= 2;
        c->lambda = 0;
    }
    return 0;
}

static inline enum walk_status classify_failure(void)
{
    enum ft_errkind k = ft_error_kind();
    return (k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM) ? WALK_FATAL : WALK_TORN;
}

/* The fields of a thread state the stack readers need. */
struct tstate_view {
    uint64_t frame;               /* innermost frame; 3.11-3.12: see cframe */
    uint64_t cframe;              /* 3.11-3.12: frame lives at cframe + current_frame */
    uint64_t thread_id, native_id, next, chunk, top;
};

/* Bytes of a thread state to read to see every field in tstate_view. */
size_t ft_tstate_span(const struct ft_offsets *o);
/* Fills v from a thread state copied into buf (frame 0 when behind cframe). */
void ft_tstate_parse(const struct ft_offsets *o, const unsigned char *buf, size_t n,
                     struct tstate_view *v);
int ft_walk_scratch_ensure(struct ft_reader *r);

enum walk_status ft_walk_pyframes(struct ft_reader *r, uint64_t frame, struct raw_stack *s);
enum walk_status ft_walk_iframes(struct ft_reader *r, struct window *w, uint64_t frame,
                                 struct raw_stack *s);
/* 1 if the cached code object at code is a generator's or coroutine's. */
int ft_is_cached_generator(struct ft_reader *r, uint64_t code);

/* Bytes of an _PyInterpreterFrame the walker reads. */
static inline size_t ft_iframe_span(const struct ft_offsets *o) { return (size_t)o->iframe_localsplus; }

/* Validates the raw stack's code objects and fills t->frames. Codes checked
 * against the target within the last `trust_rounds` rounds (by round) are
 * not re-read; 0 re-reads all. */
enum walk_status ft_resolve_frames(struct ft_reader *r, struct ft_thread *t, uint64_t round,
                                   uint64_t trust_rounds);

#endif
