/*
 * code.h - decoded code objects and the cache that keeps them.
 *
 * A code object never changes once created, so its names and line table are
 * decoded once. But addresses are reused after free, often by code of the
 * same shape (exec/eval in a loop frees and re-creates code objects, their
 * names and tables at the very same addresses), so an entry is used only
 * while it is known to describe the object now at its address:
 *   - 3.14+: no code object was freed since the entry was last checked (the
 *     interpreter's _code_object_generation has not moved);
 *   - 3.12/3.13: the object's head still matches, co_version included, a
 *     number the interpreter never gives twice;
 *   - 3.8-3.11: the head matches and so does every byte of the name,
 *     qualified name, file name and line table the entry was decoded from.
 * Entries replaced during one snapshot stay alive until
 * ft_code_cache_sweep(), so frames of the same snapshot never dangle.
 */
#ifndef FT_CODE_H
#define FT_CODE_H

#include "discover.h"
#include "evidence.h"
#include "objects.h"

#include <stddef.h>
#include <stdint.h>

#define FT_NAME_MAX 1024          /* bytes of UTF-8 kept per name */
#define FT_LINETABLE_MAX (1u << 20)
#define FT_CODE_HEAD_MAX 512       /* bytes of a code object read to validate it */
#define FT_CODE_KEY 7              /* type, name, qualname, file, table, firstline, version */
#define FT_CODE_NSTR 4             /* name, qualname, file, line table: checked by content */
#define FT_STR_CHECK_MAX 256       /* bytes of each compared (head and start of the data) */

/* How entries are re-checked, from what the version publishes. */
enum ft_code_check { FT_CHECK_GENERATION, FT_CHECK_VERSION, FT_CHECK_CONTENT };

/* An object the entry was decoded from, as it was: compared from ob_type on
 * (the reference count moves). */
struct ft_code_str {
    uint64_t addr;
    uint32_t len;
    unsigned char bytes[FT_STR_CHECK_MAX];
};

struct ft_code {
    uint64_t addr;
    uint64_t key[FT_CODE_KEY];
    char *name, *qualname, *filename;
    uint8_t *linetable;
    size_t linetable_len;
    int firstlineno;
    uint32_t flags;               /* co_flags */
    int64_t code_bytes;           /* bytecode length in bytes, for offset checks */
    int64_t memo_offset[2];       /* last offsets asked of ft_code_line() ... */
    int memo_line[2];             /* ... and their lines: stacks repeat offsets (a
                                     recursive function: its call and its top) */
    int64_t user_id;              /* free for the caller (the profiler's function id), -1 */
    uint64_t generation;          /* 3.14+: code generation of the last check */
    int checked;                  /* set by a check in the current stack read */
    uint64_t used;                /* the cache's clock when last found: LRU */
    uint8_t refcnt_size;          /* bytes of ob_refcnt (skipped when compared) */
    struct ft_code_str strs[FT_CODE_NSTR]; /* 3.8-3.11 only; addr 0: unused */
};

#define FT_BUILTIN_TYPES_MAX 16

struct ft_code_cache;

struct ft_code_cache *ft_code_cache_new(size_t capacity);
void ft_code_cache_free(struct ft_code_cache *c);
/* Frees entries replaced since the last sweep; call between snapshots. */
void ft_code_cache_sweep(struct ft_code_cache *c);

struct ft_walk_scratch;

struct ft_reader {
    struct ft_proc *proc;
    const struct ft_layout *layout;
    uint64_t runtime;             /* _PyRuntime in the target */
    struct ft_code_cache *codes;
    uint64_t types[FT_BUILTIN_TYPES_MAX]; /* builtin types once verified (objects.h) */
    struct ft_walk_scratch *scratch; /* walker buffers, see stack.c */
    struct ft_ev_layout ev_layout;   /* fields the evidence check compares */
    enum ft_code_check check;
    int sandwich_layers;          /* copies of a running thread's frames per read */
    uint64_t lookups, misses;
};

/* Sets the reader's per-layout tables; call once after layout is known. */
void ft_reader_init(struct ft_reader *r);

/* The decoded code object at addr, or NULL if it is not a code object (or
 * cannot be read; ft_fail() says why). Always checked against the target. */
struct ft_code *ft_code_get(struct ft_reader *r, uint64_t addr);
/* The cached entry for addr without checking it against the target (NULL if
 * none): only for hints (is it a generator?), never for what is shown. */
struct ft_code *ft_code_peek(struct ft_reader *r, uint64_t addr);
/* Line of byte offset `offset` in code c (-1: none), memoized per code. */
int ft_code_line(struct ft_code *c, enum ft_linetable_format fmt, int64_t offset);

/* The entry for the head the caller read at addr (ft_code_head_size()
 * bytes): the cached one if the head matches its key, else decoded afresh.
 * *needs_content is set when the entry is cached and must still pass
 * ft_code_content_same() (FT_CHECK_CONTENT) before use. */
struct ft_code *ft_code_from_head(struct ft_reader *r, uint64_t addr, const unsigned char *head,
                                  size_t n, int *needs_content);
size_t ft_code_head_size(const struct ft_layout *l);
/* Whether bytes read again at e->strs[i].addr (e->strs[i].len of them) are
 * what the entry was decoded from. */
int ft_code_str_same(const struct ft_code *e, int i, const unsigned char *again);
/* Drops e and decodes the object at its address afresh (its strings moved). */
struct ft_code *ft_code_redecode(struct ft_reader *r, struct ft_code *e, const unsigned char *head,
                                 size_t n);

#endif
