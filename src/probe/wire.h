/*
 * wire.h - the messages between the frametap command and the in-process
 * probe agent, over a unix socket: a u32 length, a u8 type, then fields
 * (u8 tag, u32 length, bytes). Numbers travel as decimal text.
 *
 * Shared by both sides (and mirrored by python/frametap/_wire.py). Builds
 * into caller-owned fixed buffers and parses without allocating; never
 * trusts a length it did not check against what it holds.
 */
#ifndef FT_PROBE_WIRE_H
#define FT_PROBE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define FTW_MAX_MESSAGE (1u << 20)

enum ftw_type {
    /* agent -> frametap */
    FTW_HELLO = 1,     /* PID VERSION MECHANISM */
    FTW_HIT = 2,       /* one probe hit (fields below) */
    FTW_STATUS = 3,    /* ID? KIND TEXT: armed, pending, error, paused, ... */
    FTW_COUNTS = 4,    /* (ID COUNT)*: hits since the last COUNTS, for --count */
    FTW_REPLY = 5,     /* OK or ERROR, TEXT, ID* */
    /* frametap -> agent */
    FTW_ADD = 16,      /* one probe: the P_* fields */
    FTW_REMOVE = 17,   /* ID (or none: all of this connection's) */
    FTW_LIST = 18,
    FTW_BYE = 19,
    FTW_TRACE_START = 20,  /* T_* fields */
    FTW_TRACE_STOP = 21,
    FTW_RUN = 22,      /* frametap started the program: run it now */
};

enum ftw_tag {
    FTW_ID = 1, FTW_TEXT, FTW_KIND, FTW_PID, FTW_VERSION, FTW_MECHANISM, FTW_OK, FTW_ERROR,
    FTW_COUNT,
    /* hits */
    FTW_TIME = 16,     /* ns since the epoch */
    FTW_TID, FTW_THREAD, FTW_FUNC, FTW_FILE, FTW_LINE,
    FTW_MESSAGE,       /* the logpoint's text */
    FTW_EXPR, FTW_VALUE,       /* one {expr} of a logpoint and its value */
    FTW_FRAME,         /* snapshot: a frame begins (FUNC FILE LINE follow) */
    FTW_LOCAL, FTW_LOCAL_VALUE, /* snapshot: a name in that frame and its value */
    FTW_TRUNCATED,     /* the hit was cut at the size bound */
    /* probe specs */
    FTW_P_AT = 48, FTW_P_ACTION, FTW_P_TEMPLATE, FTW_P_WHEN, FTW_P_LIMIT, FTW_P_RATE,
    FTW_P_EXPIRE, FTW_P_FRAMES, FTW_P_BUDGET, FTW_P_REDACT,
    /* trace */
    FTW_T_RAW = 80, FTW_T_EVENTS, FTW_T_WITHIN, FTW_T_INCLUDE, FTW_T_EXCLUDE, FTW_T_MAX_DEPTH,
    FTW_T_BUFFER_MB,
};

struct ftw_buf {
    unsigned char *p;
    size_t len, cap;
    size_t start;          /* where the open message began */
    int overflow;          /* a field did not fit: the message is cut */
};

void ftw_init(struct ftw_buf *b, void *mem, size_t cap);
/* Opens a message at the end of b. */
void ftw_begin(struct ftw_buf *b, unsigned type);
/* 0, or -1 (and overflow set) when the field does not fit. */
int ftw_field(struct ftw_buf *b, unsigned tag, const void *data, size_t len);
int ftw_field_str(struct ftw_buf *b, unsigned tag, const char *s);
int ftw_field_u64(struct ftw_buf *b, unsigned tag, uint64_t v);
int ftw_field_i64(struct ftw_buf *b, unsigned tag, int64_t v);
/* Writes the open message's length; its total size. */
size_t ftw_end(struct ftw_buf *b);
/* Room left for field data in the open message. */
size_t ftw_room(const struct ftw_buf *b);

/* Is p[0..n) the start of a whole message? Its size, 0 when more bytes
 * are needed, -1 when the length is impossible. */
long ftw_complete(const unsigned char *p, size_t n);

struct ftw_msg {
    unsigned type;
    const unsigned char *body;   /* the fields */
    size_t len;
};
/* A whole message (as ftw_complete measured it) into m. */
void ftw_open(const unsigned char *p, size_t size, struct ftw_msg *m);
/* The next field from *pos: 1, 0 at the end, -1 when malformed. */
int ftw_next(const struct ftw_msg *m, size_t *pos, unsigned *tag, const unsigned char **data,
             size_t *len);
/* The first field with tag as a NUL-terminated copy in out (cut to cap);
 * 1 found, 0 not. */
int ftw_get(const struct ftw_msg *m, unsigned tag, char *out, size_t cap);

#endif
