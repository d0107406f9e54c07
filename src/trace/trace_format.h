/*
 * The raw trace file written by the in-process tracer (python/frametap) and
 * read by `frametap trace` (src/trace/tracefile.c).
 *
 * Shared by both sides, so it holds only plain C: no Python types, no
 * functions. The reader treats every byte of such a file as hostile; the
 * writer never trusts it either (it only appends).
 *
 * Layout: one ft_trace_header, then chunks. A chunk is one thread's run of
 * records: ft_trace_chunk followed by `nbytes` of records. A record is 16
 * bytes (ft_trace_record); kinds at or above FT_REC_FIRST_BLOB are followed
 * by a payload of c bytes (its length) padded to 16. Chunks of different threads
 * interleave in the file; one thread's chunks appear in `seq` order.
 */
#ifndef FT_TRACE_FORMAT_H
#define FT_TRACE_FORMAT_H

#include <stdint.h>

#define FT_TRACE_MAGIC       "FTTRACE1"
#define FT_TRACE_CHUNK_MAGIC 0x4b434654u /* "FTCK" little-endian */
#define FT_TRACE_MAX_PAYLOAD 65536u      /* no payload is ever longer */
#define FT_TRACE_MAX_CHUNK   (4u << 20)  /* no chunk is ever longer */

/* Timestamps: CPU ticks (x86 TSC) unless FT_TRACE_TS_NS, converted with the
 * (tick, monotonic ns) pairs carried by the header and every chunk. */
#define FT_TRACE_TS_NS 1u

struct ft_trace_header {
    char     magic[8];
    uint32_t header_size;     /* sizeof(struct ft_trace_header) */
    uint32_t flags;           /* FT_TRACE_TS_NS */
    uint32_t pid;
    uint32_t python_hex;      /* PY_VERSION_HEX of the traced interpreter */
    uint64_t start_ticks;
    uint64_t start_ns;        /* CLOCK_MONOTONIC at start_ticks */
    uint64_t start_unix_ns;   /* wall clock at start, for humans */
    uint32_t events_mask;     /* FT_EV_* asked for */
    uint32_t parent_pid;      /* non-zero in a file written after fork() */
};

struct ft_trace_chunk {
    uint32_t magic;           /* FT_TRACE_CHUNK_MAGIC */
    uint32_t nbytes;          /* records that follow, <= FT_TRACE_MAX_CHUNK */
    uint32_t tid;             /* native thread id */
    uint32_t seq;             /* 0, 1, 2 ... per thread */
    uint64_t ident;           /* Python thread ident */
    uint64_t ticks;           /* clock pair taken when the chunk was written */
    uint64_t ns;
    uint64_t dropped;         /* events this thread lost before this chunk */
};

struct ft_trace_record {
    uint64_t ts;
    uint32_t a;               /* code id, function id, count ... by kind */
    uint32_t kind_c;          /* kind in the low 8 bits, c in the high 24 */
};

#define FT_REC_KIND(r) ((r)->kind_c & 0xffu)
#define FT_REC_C(r)    ((r)->kind_c >> 8)
#define FT_REC_MAKE(kind, c) ((uint32_t)(kind) | ((uint32_t)(c) << 8))
#define FT_REC_C_MAX   0xffffffu

/* Record kinds. a / c / payload meaning in the comment. */
enum ft_rec_kind {
    FT_REC_CALL = 1,        /* a=code id */
    FT_REC_RESUME,          /* a=code id: a generator or coroutine resumed */
    FT_REC_RETURN,          /* a=code id, c=instruction offset (bytes) */
    FT_REC_YIELD,           /* a=code id, c=offset: suspended */
    FT_REC_UNWIND,          /* a=code id, c=offset: left by an exception */
    FT_REC_C_CALL,          /* a=function id */
    FT_REC_C_RETURN,        /* a=function id */
    FT_REC_C_RAISE,         /* a=function id */
    FT_REC_LINE,            /* a=code id, c=line */
    FT_REC_GC_START,        /* c=generation */
    FT_REC_GC_STOP,         /* a=collected, c=uncollectable */
    FT_REC_FIRST_BLOB = 64,
    FT_REC_CODE_DEF = 64,   /* a=code id; ft_trace_code_def + qualname\0file\0module\0 + lines */
    FT_REC_FUNC_DEF,        /* a=function id; name\0 */
    FT_REC_THREAD,          /* a=native tid; u64 ident + name\0 */
    FT_REC_OPCODE,          /* a=code id; ft_trace_opcode + items */
    FT_REC_RAISE,           /* a=code id; u32 offset + exception type name\0 */
    FT_REC_RERAISE,         /* same */
    FT_REC_HANDLED,         /* same */
    FT_REC_IMPORT,          /* module name\0 */
    FT_REC_AUDIT,           /* event name\0 bounded repr of args\0 */
    FT_REC_OPNAMES,         /* 256 names, each \0-terminated */
    FT_REC_STOP,            /* u64 total events, u64 dropped; the writer's last word */
};

/* FT_REC_CODE_DEF payload head; then strings; then nlines line ranges. */
struct ft_trace_code_def {
    uint32_t firstlineno;
    uint32_t nlines;          /* count of ft_trace_line_range after the strings */
};

struct ft_trace_line_range {
    uint32_t start;           /* instruction offsets in bytes, [start, end) */
    uint32_t end;
    int32_t  line;            /* -1: no line */
};

/* FT_REC_OPCODE payload head; then nitems of "type\0repr\0". */
struct ft_trace_opcode {
    uint32_t offset;          /* instruction offset in bytes */
    uint16_t opcode;
    uint16_t nitems;          /* items shown (bottom first) */
    uint16_t depth;           /* real stack depth, 0xffff when unknown */
};

/* Event kinds a user can ask for (--events); also the header's events_mask. */
enum ft_ev {
    FT_EV_CALL      = 1u << 0,  /* Python call, return, yield, resume */
    FT_EV_C         = 1u << 1,  /* calls of C functions */
    FT_EV_LINE      = 1u << 2,
    FT_EV_OPCODE    = 1u << 3,  /* with the value stack */
    FT_EV_EXCEPTION = 1u << 4,  /* raised, re-raised, handled */
    FT_EV_GC        = 1u << 5,
    FT_EV_IMPORT    = 1u << 6,
    FT_EV_AUDIT     = 1u << 7,  /* every other audit event */
    FT_EV_THREAD    = 1u << 8,
};

#define FT_EV_DEFAULT (FT_EV_CALL | FT_EV_EXCEPTION | FT_EV_GC | FT_EV_IMPORT | FT_EV_THREAD)

#endif
