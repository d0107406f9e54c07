/*
 * objects.h - reading Python objects of the target: type names, str, int,
 * float, dicts (lookup and iteration), instance attributes, modules; and
 * for the value renderer (render.h): str code units, ints of any size,
 * bytes, tuples, lists, sets, cells, weak references.
 *
 * What it is for: small values a running program keeps in plain objects
 * (a thread's name, a module global), read from outside through
 * struct ft_reader and nothing else, with the offsets of struct ft_layout.
 *
 * What it must never do: call, import or evaluate anything in the target,
 * write to it, follow remote data recursively, trust a remote length or
 * count (each is bounded here; absurd ones fail with FT_E_CORRUPT), or take
 * an object for a str, int, float, dict or module without comparing its
 * ob_type with that builtin type, identified once by its tp_name (and
 * checked to be a static, non-heap type with the matching subclass flag).
 *
 * Lookups return 0 when found, FT_OBJ_ABSENT when the key or attribute is
 * not there (not an error), -1 with ft_fail() set otherwise.
 */
#ifndef FT_OBJECTS_H
#define FT_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

struct ft_reader;

/* Builtin types recognised by address once identified (see ft_reader). */
enum ft_builtin_type {
    FT_TYPE_STR,
    FT_TYPE_INT,
    FT_TYPE_FLOAT,
    FT_TYPE_DICT,
    FT_TYPE_MODULE,
    FT_TYPE_CODE,
    FT_TYPE_BOOL,
    FT_TYPE_NONE,
    FT_TYPE_BYTES,
    FT_TYPE_TUPLE,
    FT_TYPE_LIST,
    FT_TYPE_SET,
    FT_TYPE_FROZENSET,
    FT_TYPE_CELL,
    FT_TYPE_COUNT
};

/* The builtin type names, indexed by enum ft_builtin_type. */
extern const char *const ft_builtin_names[FT_TYPE_COUNT];

#define FT_OBJ_ABSENT 1
#define FT_DICT_CHUNK 32                /* entries read at once            */
#define FT_DICT_MAX_ENTRIES (1u << 20)  /* larger dicts are refused       */
#define FT_TYPE_NAME_MAX 256            /* bytes of a tp_name ever read   */

/* Whether the type object at `type` is builtin type t. Never fails: an
 * unreadable type is not t. */
int ft_is_builtin_type(struct ft_reader *r, enum ft_builtin_type t, uint64_t type);
/* Which builtin type the type object at `type` is (its tp_name read once),
 * or -1: a type of its own, a subclass, or unreadable (never an error). */
int ft_builtin_of(struct ft_reader *r, uint64_t type);
/* tp_base of the type object at `type` (0 for object). */
int ft_type_base(struct ft_reader *r, uint64_t type, uint64_t *base);
/* tp_name of the type object at `type`, cut at n-1 bytes (as the target
 * has it: callers escape). */
int ft_type_name(struct ft_reader *r, uint64_t type, char *out, size_t n);
/* The ob_type of the object at addr. */
int ft_obj_type(struct ft_reader *r, uint64_t addr, uint64_t *type);

/* tp_name of the object's type, cut at n-1 bytes. Bytes as the target has
 * them: callers escape for their output. */
int ft_obj_type_name(struct ft_reader *r, uint64_t addr, char *out, size_t n);
/* A compact str as UTF-8, cut on a character boundary to fit n bytes (and
 * at FT_NAME_MAX characters). Lone surrogates U+DC80..U+DCFF come out as
 * the raw bytes they stand for, so the text may hold invalid UTF-8 and
 * control characters: callers escape. */
int ft_obj_str(struct ft_reader *r, uint64_t addr, char *out, size_t n);
/* An int that fits int64_t / uint64_t (ft_obj_u64: non-negative only). */
int ft_obj_int(struct ft_reader *r, uint64_t addr, int64_t *out);
int ft_obj_u64(struct ft_reader *r, uint64_t addr, uint64_t *out);
int ft_obj_float(struct ft_reader *r, uint64_t addr, double *out);

/* A compact str's code units: its kind (1, 2 or 4 bytes per code point),
 * its length, and the first min(length, max) code units in out (which
 * holds max * 4 bytes). */
int ft_obj_str_units(struct ft_reader *r, uint64_t addr, int *kind, uint64_t *length, void *out,
                     size_t max);
/* An int of any size: its sign and its digits as 32-bit values of
 * consts.long_shift bits each, least significant first, at most max of
 * them (*ndigits says how many it has: more than max fails with
 * FT_OBJ_ABSENT, nothing read). Also reads bools (ints of 0 or 1). */
int ft_obj_long(struct ft_reader *r, uint64_t addr, int *negative, uint32_t *digits, size_t max,
                uint64_t *ndigits);
/* A bytes object: its length and its first min(length, max) bytes. */
int ft_obj_bytes(struct ft_reader *r, uint64_t addr, unsigned char *out, size_t max, uint64_t *length);
/* A tuple's or list's item count and where its item pointers are. */
int ft_obj_items(struct ft_reader *r, uint64_t addr, enum ft_builtin_type t, uint64_t *items,
                 uint64_t *count);
/* A cell's content (0: empty). */
int ft_obj_cell(struct ft_reader *r, uint64_t addr, uint64_t *ref);
/* The object a weak reference points to (0: dead, None in the target). */
int ft_obj_weakref(struct ft_reader *r, uint64_t addr, uint64_t *ref);

/* Iteration over a set's or frozenset's keys in table order (Python's
 * iteration order), entries read a chunk at a time; deleted entries
 * (dummy keys, hash -1) skipped. */
#define FT_SET_MAX_SLOTS (1u << 22)    /* larger tables are refused */
#define FT_SET_ENTRY_MAX 32
struct ft_set_iter {
    struct ft_reader *r;
    uint64_t table, slots, used, pos, seen;
    uint64_t first, count, entry_size;
    uint64_t read, read_max;           /* bytes of entries read; the caller's cap */
    unsigned char buf[FT_DICT_CHUNK * FT_SET_ENTRY_MAX];
};
/* *used is the set's element count. read_max starts unlimited. */
int ft_set_iter_init(struct ft_reader *r, uint64_t set, struct ft_set_iter *it, uint64_t *used);
/* 1 with the next key set, 0 at the end, -1 on error, FT_ITER_SPENT when
 * going on would read more than read_max bytes of entries. */
#define FT_ITER_SPENT 2
int ft_set_iter_next(struct ft_set_iter *it, uint64_t *key);

/* Iteration over a dict's live (key, value) pairs in insertion order, with
 * entries read a chunk at a time. Also used on an instance's values array
 * with its type's shared keys. */
#define FT_DICT_ENTRY_MAX 64           /* bytes: larger entries are refused */

struct ft_dict_iter {
    struct ft_reader *r;
    uint64_t entries;                  /* address of entry 0 */
    uint64_t values;                   /* split table: address of values[0] */
    uint64_t nentries, values_cap, pos;
    uint64_t entry_size, key_off, value_off;
    uint64_t first, count;             /* entries now in buf */
    uint64_t read, read_max;           /* bytes of entries read; the caller's cap */
    unsigned char buf[FT_DICT_CHUNK * FT_DICT_ENTRY_MAX];
    uint64_t vbuf[FT_DICT_CHUNK];
};

/* Checks that dict is a dict and prepares to iterate it. */
int ft_dict_iter_init(struct ft_reader *r, uint64_t dict, struct ft_dict_iter *it);
/* 1 with the next pair set, 0 at the end, -1 on error, FT_ITER_SPENT as
 * for sets (read_max starts unlimited). */
int ft_dict_iter_next(struct ft_dict_iter *it, uint64_t *key, uint64_t *value);

/* The value under the str key `key` (UTF-8). Keys that are not str are
 * skipped, never compared by calling anything. */
int ft_dict_lookup_str(struct ft_reader *r, uint64_t dict, const char *key, uint64_t *value);

/* The attribute `name` from the instance's own storage only (its __dict__,
 * managed dict or inline values, whichever the type and version use); no
 * descriptors, slots, class attributes or __getattr__. */
int ft_obj_attr(struct ft_reader *r, uint64_t obj, const char *name, uint64_t *value);

/* sys.modules[name] of the interpreter at interp, if it is a module. */
int ft_find_module(struct ft_reader *r, uint64_t interp, const char *name, uint64_t *module);
/* The module's __dict__ (md_dict). */
int ft_module_dict(struct ft_reader *r, uint64_t module, uint64_t *dict);

#endif
