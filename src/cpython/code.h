/*
 * code.h - decoded code objects and the cache that keeps them.
 *
 * A code object never changes once created, so its names and line table are
 * decoded once. Addresses are reused after free, so every lookup re-reads
 * the object's head and compares it with what was cached (type, the name,
 * qualname, filename and line-table pointers, first line); a mismatch
 * decodes afresh. Entries replaced during one snapshot stay alive until
 * ft_code_cache_sweep(), so frames of the same snapshot never dangle.
 */
#ifndef FT_CODE_H
#define FT_CODE_H

#include "discover.h"

#include <stddef.h>
#include <stdint.h>

#define FT_NAME_MAX 1024          /* bytes of UTF-8 kept per name */
#define FT_LINETABLE_MAX (1u << 20)
#define FT_CODE_HEAD_MAX 512       /* bytes of a code object read to validate it */

struct ft_code {
    uint64_t addr;
    uint64_t key[6];              /* validation: type, name, qualname, file, table, firstline */
    char *name, *qualname, *filename;
    uint8_t *linetable;
    size_t linetable_len;
    int firstlineno;
    uint32_t flags;               /* co_flags */
    int64_t code_bytes;           /* bytecode length in bytes, for offset checks */
    int64_t memo_offset;          /* last offset asked of ft_code_line() ... */
    int memo_line;                /* ... and its line: stacks repeat offsets */
    int64_t user_id;              /* free for the caller (the profiler's function id), -1 */
    uint64_t checked_round;       /* sampler round of the last check against the target */
};

struct ft_code_cache;

struct ft_code_cache *ft_code_cache_new(size_t capacity);
void ft_code_cache_free(struct ft_code_cache *c);
/* Frees entries replaced since the last sweep; call between snapshots. */
void ft_code_cache_sweep(struct ft_code_cache *c);

struct ft_reader {
    struct ft_proc *proc;
    const struct ft_layout *layout;
    struct ft_code_cache *codes;
    uint64_t code_type;           /* address of PyCode_Type once verified */
    struct ft_walk_scratch *scratch; /* walker buffers, see walk.c */
    uint64_t lookups, misses;
};

/* The decoded code object at addr, or NULL if it is not a code object (or
 * cannot be read; ft_fail() says why). */
struct ft_code *ft_code_get(struct ft_reader *r, uint64_t addr);
/* The cached entry for addr without checking it against the target (NULL if
 * none): for callers that re-check entries on their own schedule. */
struct ft_code *ft_code_peek(struct ft_reader *r, uint64_t addr);
/* Line of byte offset `offset` in code c (-1: none), memoized per code. */
int ft_code_line(struct ft_code *c, enum ft_linetable_format fmt, int64_t offset);

/* The same, from a head of ft_code_head_size() bytes the caller already
 * read (the walker reads the heads of a whole stack in one syscall). */
struct ft_code *ft_code_from_head(struct ft_reader *r, uint64_t addr,
                                        const unsigned char *head, size_t n);
size_t ft_code_head_size(const struct ft_layout *l);

/* Reads a str object as UTF-8 into out (FT_NAME_MAX). Returns 0 or -1. */
int ft_read_str(struct ft_reader *r, uint64_t addr, char *out, size_t outsize);

#endif
