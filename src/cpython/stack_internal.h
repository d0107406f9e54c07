/*
 * stack_internal.h - what the stack readers share inside src/cpython: raw
 * frames, views of copied memory, the scratch of one read, and cycle
 * checks. Not for layers above the cpython model.
 *
 * A stack is built by a walker (stack.c) from a view: ranges of target
 * memory already copied. A paused target is walked with reads as needed; a
 * running one is read by fastread.c as a sandwich (ranges, thread state,
 * the same ranges again) and its walk may use nothing but the first copy.
 * Then the code objects are checked (stackcodes.c) and the two copies
 * compared (evidence.c).
 */
#ifndef FT_STACK_INTERNAL_H
#define FT_STACK_INTERNAL_H

#include "../util/error.h"
#include "walk.h"

/* MISS: a running target's walk needed memory its copy does not hold;
 * AGAIN: read once more (something was learnt after the copies). */
enum walk_status {
    WALK_OK = 0, WALK_TORN = 1, WALK_MISS = 2, WALK_AGAIN = 3,
    WALK_FATAL_THREAD = 4,        /* this thread is gone; the process is fine */
    WALK_FATAL = -1,
};

/* A frame as found in memory, before its code object is checked. */
struct raw_frame {
    uint64_t code;
    int64_t offset;               /* byte offset of the current instruction */
    uint64_t addr;                /* where the frame itself lives */
};

#define ONCE_MAX 16

struct raw_stack {
    struct raw_frame v[FT_MAX_DEPTH];
    size_t n;
    int truncated;
    int ends_at_entry;            /* 3.11+: the chain ended at an entry frame */
    int strict;                   /* running target: stricter checks */
    uint64_t once[ONCE_MAX];      /* entry frames that need one copy only (fastread.c) */
    size_t nonce;
    uint64_t refused;             /* a frame read once that needs two copies after all */
    int entry_check;              /* 3.11-3.12: check the first entry frame ... */
    uint64_t entry_caller;        /* ... hangs below this (its C caller's frame) */
};

#define WINDOW_MAX (16u << 20)    /* largest data-stack window copied */
#define FRAME_COPY 256            /* bytes kept of a frame read on its own */
#define COPY_SLOTS (2 * FT_MAX_DEPTH + 16)
#define TSTATE_MAX 1024
#define PLACES_MAX (FT_MAX_DEPTH + 256) /* ranges one read may copy */

/* What a range holds, which decides how the second copy must match. */
enum view_kind {
    VIEW_WINDOW,   /* the current data-stack chunk, [data, top + slack) */
    VIEW_CHUNK,    /* the used part of an older chunk: all of it is live */
    VIEW_FRAME,    /* one frame that lives elsewhere (generator, C stack,
                      base frame; every frame before 3.11) */
    VIEW_ONCE,     /* 3.14+: an entry frame on the C stack whose callee is a
                      Python frame, copied once (see ft_walk_iframes) */
};

struct view_range {
    uint64_t addr;
    size_t len;
    const unsigned char *bytes;
    uint8_t kind;
    uint8_t walked;               /* set when a walk took a frame from it */
};

/* Target memory a walk may use. With `live` set the walker reads what the
 * ranges lack from the target (and notes it in missed[]); without, a lack
 * ends the walk with WALK_MISS. */
struct view {
    struct view_range *r;
    size_t n, cap;
    size_t hint;                  /* the range the last lookup found */
    int live;
    uint64_t datastack_top;       /* from the thread state the walk began at */
    uint64_t *missed;             /* frames the walk needed outside the ranges */
    size_t nmissed, missed_cap;
};

/* One step of a 3.11+ walk, kept so that the next read of the thread can
 * take the steps that did not change from it (walkmemo.c). */
struct walk_step {
    uint64_t addr;
    uint32_t at;                  /* where its bytes were in the copy */
    uint32_t raw_before;          /* raw frames pushed before it */
    uint16_t range;               /* the view range they came from */
    uint8_t kind;                 /* that range's kind */
    uint8_t flags;                /* STEP_* */
    uint32_t win_lo, win_hi;      /* kept as a memo: the window's bytes read from here down */
};
#define STEP_CALLEE_PYTHON 1      /* the step above was a Python frame */
#define STEP_ONCE 2               /* an entry frame that needs one copy */

/* The steps of one walk and the raw frames they gave; kept as a memo,
 * what comparing its steps needs (walkmemo.c). */
struct walk_log {
    struct walk_step *step;
    size_t n, cap;
    uint32_t *sparse;             /* the steps read outside the window, in order */
    size_t nsparse, sparse_cap;
    size_t win_range;             /* the window's view range (SIZE_MAX: none) */
    size_t span;                  /* bytes read per step */
    struct raw_frame *raw;
    size_t nraw, raw_cap;
    int ends_at_entry;
    int whole;                    /* every step was logged */
    uint64_t plan;                /* how the copy was laid out (fastread's plan) */
    size_t taken_at, taken_raw;   /* this walk took the memo's steps from taken_at
                                     on, after taken_raw raw frames (0: did not) */
    struct ft_frame *frames;      /* the raw frames resolved, while codes stand: */
    size_t frames_cap;
    int have_frames;
    uint64_t generation;          /* ... the code generation then (3.14+) */
    uint64_t decodes;             /* ... and the reader's count of decodes */
};

#define HEAD_BATCH (FT_MAX_DEPTH / 16)

struct ft_walk_scratch {
    struct raw_stack raw;
    unsigned char *window;                  /* the paused path's window copy */
    size_t window_cap;
    unsigned char *copies;                  /* COPY_SLOTS frames of FRAME_COPY bytes */
    size_t ncopies;
    unsigned char tstate[TSTATE_MAX];
    struct ft_evidence ev;
    struct view view;
    uint64_t distinct[FT_MAX_DEPTH];
    size_t ndistinct;
    struct ft_code *codes[FT_MAX_DEPTH];
    uint32_t index[FT_MAX_DEPTH];           /* raw frame -> distinct code */
    uint32_t slots[2 * FT_MAX_DEPTH];       /* distinct-code hash: index+1, 0 empty */
    unsigned char heads[HEAD_BATCH][FT_CODE_HEAD_MAX]; /* per batch */
    struct walk_log log;                    /* this walk's steps (when copy is set) */
    const unsigned char *copy;              /* the copy the view's ranges lie in */
    const struct walk_log *memo;            /* the last walk, to take steps from */
    const unsigned char *memo_copy;         /* ... and the copy it read */
    int memo_tries;
    int check_memo;                         /* FRAMETAP_CHECK_MEMO: verify what is taken */
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
    uint64_t prev_cframe;         /* 3.11-3.12: the C frame of the caller (0: none) */
    uint64_t thread_id, native_id, next, chunk, top, limit;
};

/* 3.11-3.12: the part of a _PyCFrame read, holding current_frame and
 * previous: where it starts and how long it is. */
static inline uint64_t ft_cframe_lo(const struct ft_offsets *o)
{
    return o->cframe_current_frame < o->cframe_previous ? o->cframe_current_frame : o->cframe_previous;
}
static inline size_t ft_cframe_len(const struct ft_offsets *o)
{
    uint64_t hi = o->cframe_current_frame > o->cframe_previous ? o->cframe_current_frame : o->cframe_previous;
    return (size_t)(hi + 8 - ft_cframe_lo(o));
}
/* 3.11-3.12: from the C frame's bytes (ft_cframe_lo onwards), its current
 * frame and its caller's C frame; and arms the entry-frame check of the
 * next walk (the caller's current frame, `caller_frame`, known). */
void ft_cframe_parse(const struct ft_layout *l, const unsigned char *b, struct tstate_view *v);
void ft_expect_entry_caller(struct ft_reader *r, uint64_t caller_frame);

/* Bytes of a thread state to read to see every field in tstate_view. */
size_t ft_tstate_span(const struct ft_offsets *o);
/* Fills v from a thread state copied into buf (frame 0 when behind cframe). */
void ft_tstate_parse(const struct ft_layout *l, const unsigned char *buf, size_t n,
                     struct tstate_view *v);
int ft_walk_scratch_ensure(struct ft_reader *r);
/* Starts a read: empty raw stack, evidence, copies and view. */
void ft_read_begin(struct ft_reader *r, int strict);

/* Walks from `frame` over r->scratch->view into r->scratch->raw, adding
 * the evidence for what it used (frames of VIEW_FRAME ranges; windows and
 * chunks are covered by ft_view_evidence()). */
enum walk_status ft_walk_pyframes(struct ft_reader *r, uint64_t frame);
enum walk_status ft_walk_iframes(struct ft_reader *r, uint64_t frame);
/* Evidence for the window and chunk ranges of the view: every byte below
 * the innermost frame, and that frame's identity. */
void ft_view_evidence(struct ft_reader *r, uint64_t top);
/* 1 if the cached code object at code is a generator's or coroutine's. */
int ft_is_cached_generator(struct ft_reader *r, uint64_t code);

/* walkmemo.c: logging a walk's steps and taking unchanged ones from the
 * last walk. begin: copy is the buffer the view lies in (NULL: no log),
 * memo the last walk of this thread read from memo_copy, laid out alike
 * (NULL: none). */
void ft_walklog_begin(struct ft_walk_scratch *w, const unsigned char *copy,
                      const struct walk_log *memo, const unsigned char *memo_copy);
void ft_walklog_step(struct ft_walk_scratch *w, uint64_t addr, const unsigned char *b,
                     size_t range, int kind, int flags);
/* 1 when the rest of the chain, from `frame` (not the innermost), was taken
 * from the memo: raw frames, evidence and entry frames noted as the walk
 * would have; 0 when the walk must go on. */
int ft_walklog_reuse(struct ft_walk_scratch *w, uint64_t frame, int callee_python, size_t span);
/* After a read that passed: this walk becomes *memo (their buffers are
 * swapped, or the memo's first steps replaced). 0, or -1 when it cannot be
 * kept (then *memo must not be used again). Out of memory aborts, as for
 * the walker's other arrays (FT_GROW). */
int ft_walklog_keep(struct ft_walk_scratch *w, struct walk_log *memo, uint64_t plan, size_t span);
/* The memo's raw frames as resolved (frames[i] for raw[i]), to be taken
 * while no code object was freed (generation) or decoded since. */
void ft_walklog_frames(struct walk_log *memo, const struct ft_frame *frames, size_t n,
                       uint64_t generation, uint64_t decodes);
void ft_walklog_free(struct walk_log *l);
/* FRAMETAP_CHECK_MEMO: counts a check of what was taken from a memo
 * (printed at exit); one that disagreed is reported and aborts. */
enum memo_check { MEMO_CHECK_WALK, MEMO_CHECK_RESOLUTION };
void ft_walklog_checked(int agreed, enum memo_check what);

/* Bytes of an _PyInterpreterFrame the walker reads. */
static inline size_t ft_iframe_span(const struct ft_offsets *o) { return (size_t)o->iframe_localsplus; }
/* Bytes of a PyFrameObject the walker reads. */
size_t ft_pyframe_span(const struct ft_offsets *o);

/* Where a running thread's frames are, learnt by an unchecked walk: the
 * ranges a sandwich read should copy. */
struct ft_place {
    uint64_t addr;
    size_t len;
    uint8_t kind;                 /* enum view_kind */
};

struct ft_stack_places {
    uint64_t cframe;              /* 3.11-3.12: the C frame holding the current frame */
    uint64_t prev_cframe;         /* 3.11-3.12: its caller's C frame */
    size_t n, cap;
    struct ft_place *r;
};

/* Appends a place (grows the array; at most PLACES_MAX). 0 or -1 when full. */
int ft_places_add(struct ft_stack_places *p, struct ft_place pl);
/* Appends a range to a view (grows it; at most PLACES_MAX). */
int ft_view_add(struct view *v, struct view_range g);

/* Reads the thread state and walks its frames with plain reads, to learn
 * where they are (3.11+: the chunks and frames outside them; 3.8-3.10: the
 * frame objects). Nothing learnt this way is shown: it only aims the next
 * read. `slack` bytes are added past the top of the current chunk. */
enum walk_status ft_learn_places(struct ft_reader *r, struct ft_thread *t,
                                 size_t slack, struct ft_stack_places *out);

/* A paused target's stack, with plain reads (no second copy needed). */
enum walk_status ft_read_stack_paused(struct ft_reader *r, struct ft_thread *t);

/* What a speculative read already holds of code objects (fastread.c): the
 * generation counter read after the frames, heads and content objects of
 * the codes the last stack had. */
struct ft_code_pre {
    int have_generation;
    uint64_t generation;
    size_t nheads;
    const uint64_t *head_addr;
    const unsigned char *heads;   /* nheads x ft_code_head_size() */
    size_t nstrs;
    const uint64_t *str_addr;
    const uint32_t *str_len;
    const unsigned char *strs;    /* nstrs x FT_STR_CHECK_MAX */
    const struct ft_frame *known; /* raw frames from known_from on are these, */
    size_t known_from;            /* resolved by the last read (walkmemo.c) */
};

/* Checks the raw stack's code objects against the target (stackcodes.c)
 * and fills t->frames. pre may be NULL. *decoded is set when a code object
 * was decoded afresh (it was read after the frames' copies). */
enum walk_status ft_resolve_frames(struct ft_reader *r, struct ft_thread *t,
                                   const struct ft_code_pre *pre, int *decoded);

#endif
