/*
 * objects_internal.h - what the object reader's files (objects.c: types,
 * str, int, float, dicts, attributes, modules; objects_values.c: what the
 * value renderer reads) share. Not for use outside those two files: every
 * other layer goes through objects.h.
 */
#ifndef FT_OBJECTS_INTERNAL_H
#define FT_OBJECTS_INTERNAL_H

#include "code.h"
#include "objects.h"

#define OBJ_HEAD_MAX 128           /* bytes of a str, dict or int head        */
#define PTR 8u                     /* the widest pointer a target has (bounds) */
#define NOT_STR 1                  /* ftobj_check_str_head(): another type    */

static inline const struct ft_offsets *offs(const struct ft_reader *r) { return &r->layout->off; }
static inline const struct ft_consts *consts(const struct ft_reader *r) { return &r->layout->c; }
/* Bytes of a pointer or Py_ssize_t in the target (the layout's ptr_size). */
static inline unsigned wordsz(const struct ft_reader *r) { return (unsigned)r->layout->ptr_size; }

struct type_head {
    uint64_t name, flags;
    int64_t basicsize, dictoffset;
};

struct str_head {
    int kind, compact, ascii;
    int64_t length;
};

/* Fails with FT_E_CORRUPT naming what and where; returns -1. */
int ftobj_corrupt(const char *what, uint64_t addr);
/* How many bytes to read at addr: `want`, or less so as not to reach into
 * a page past the one holding byte need-1. Never less than need. */
size_t ftobj_safe_len(uint64_t addr, size_t need, size_t want);
/* Reads ftobj_safe_len() bytes at addr (*got of them), or `need` alone if
 * that fails. */
int ftobj_read_prefix(struct ft_reader *r, uint64_t addr, void *buf, size_t need, size_t want,
                      size_t *got);
int ftobj_read_type_head(struct ft_reader *r, uint64_t type, struct type_head *h);
/* 0 if type is builtin t, else -1 with ft_fail() naming addr. */
int ftobj_expect_type(struct ft_reader *r, uint64_t addr, uint64_t type, enum ft_builtin_type t);
/* The first n bytes of the object at addr, read already. 0: a compact str,
 * described in s; NOT_STR: some other type (no error set); -1: not a sane
 * str. */
int ftobj_check_str_head(struct ft_reader *r, uint64_t addr, const unsigned char *head, size_t n,
                         struct str_head *s);
/* Reads up to `want` bytes at addr (*n of them, the str head at least) and
 * checks them as ftobj_check_str_head() does. */
int ftobj_read_str_head(struct ft_reader *r, uint64_t addr, unsigned char *head, size_t *n,
                        size_t want, struct str_head *s);
/* n bytes at addr + off of an object that must be builtin t. */
int ftobj_typed_field(struct ft_reader *r, uint64_t addr, enum ft_builtin_type t, uint64_t off, void *out,
                      size_t n);
/* Sign and number of digits of the int whose head (n bytes) is in head. */
int ftobj_long_shape(const struct ft_reader *r, uint64_t addr, const unsigned char *head, size_t n,
                     int *negative, uint64_t *ndigits);

#endif
