/*
 * evidence.h - what one stack read relied on, and the check that it still
 * held afterwards.
 *
 * A target that runs while it is read can change under the read: frame
 * memory is reused by the very next call, so a chain copied piece by piece
 * can join frames of different moments into a stack that never existed,
 * made of real frames of real code. Type checks cannot see that. What can:
 * reading everything the stack was built from a second time, after the
 * first copy (and after the code objects were checked), and finding it
 * unchanged. A frame below the top cannot change without its callee having
 * returned, so an unchanged chain, thread state and data stack mean the
 * copy holds one moment of the thread (up to a change that is undone
 * exactly within the microsecond between the copies). The thread state
 * itself may move on (the innermost frame calls and returns all the time):
 * what it must still say is that the frames read are live, i.e. on the
 * thread's stack. A stack read that way is a prefix of the stack at the
 * time of the second copy, with the innermost frame's line of the first.
 *
 * Readers add items as they use remote bytes; ft_evidence_confirm() reads
 * them again in one syscall (or takes the second copy a speculative read
 * already made) and compares what may not move. Never reads more than the
 * items name; never writes to the target.
 */
#ifndef FT_EVIDENCE_H
#define FT_EVIDENCE_H

#include "offset_fields.h"

#include <stddef.h>
#include <stdint.h>

struct ft_reader;
struct ft_remote_iov;

/* What must hold of an item's second copy (fields come from the layout). */
enum ft_ev_kind {
    FT_EV_BYTES,        /* every byte the same */
    FT_EV_TSTATE,       /* the same thread, and the innermost frame read still live (below) */
    FT_EV_IFRAME,       /* _PyInterpreterFrame waiting for its callee: link, code, owner, instr */
    FT_EV_IFRAME_TOP,   /* the innermost one: link, code, owner (its instr moves) */
    FT_EV_PYFRAME,      /* PyFrameObject waiting for its callee: back, code, lasti, state */
    FT_EV_PYFRAME_TOP,  /* the innermost one: back, code, and still alive */
    FT_EV_NKINDS
};

struct ft_ev_item {
    uint64_t addr;
    const unsigned char *seen;   /* the bytes the read used (owned by the reader) */
    uint32_t len;
    uint8_t kind;
};

struct ft_evidence {
    struct ft_ev_item *v;
    size_t n, cap;
    int overflow;                /* more items than room: cannot be confirmed */
    /* 3.11+: end of the innermost chain frame inside the data-stack chunk
     * (0: none there). The thread state confirms the read if the chunk is
     * the same and its top is still above this: that frame, and so every
     * frame below it, is live. 0 with frames elsewhere: the innermost frame
     * pointer must be unchanged instead. */
    uint64_t live_mark;
    unsigned char *again;        /* buffer for the second copy */
    size_t again_cap;
    struct ft_remote_iov *iov;   /* cap of them */
};

/* Where a speculative read already made the later copies: every seen byte
 * inside [start, start + len) has its k-th later copy at seen + delta[k]. */
#define FT_MIRROR_MAX 3
struct ft_mirror {
    const unsigned char *start;
    size_t len;
    ptrdiff_t delta[FT_MIRROR_MAX];
    int ncopies;
};

#define FT_EV_FIELDS_MAX 8

struct ft_ev_fields {
    uint16_t off[FT_EV_FIELDS_MAX];
    uint8_t width[FT_EV_FIELDS_MAX];
    uint8_t n;
};

/* Per-layout field lists, one per kind (FT_EV_BYTES has none). */
struct ft_ev_layout {
    struct ft_ev_fields kind[FT_EV_NKINDS];
    struct ft_ev_fields tstate_frame;   /* the innermost-frame pointers */
    uint64_t thread_id, chunk, top, refcnt;
    uint8_t word;                       /* bytes of a pointer-sized field: 8, or 4 (wasm32) */
};

void ft_ev_layout_init(struct ft_ev_layout *el, const struct ft_offsets *o, int ptr_size);

void ft_evidence_reset(struct ft_evidence *ev);
void ft_evidence_free(struct ft_evidence *ev);
void ft_evidence_add(struct ft_evidence *ev, uint64_t addr, const void *seen, size_t len,
                     enum ft_ev_kind kind);

/* 1: everything still reads as it did; 0: something moved (ft_fail() says
 * what; the read tore); -1: the target could not be read (ft_fail set). */
int ft_evidence_confirm(struct ft_reader *r, struct ft_evidence *ev, const struct ft_mirror *m);

#endif
