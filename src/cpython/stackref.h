/*
 * stackref.h - what a frame slot holds. Before 3.14 a slot is a PyObject *
 * (NULL: unset); from 3.14 it is a tagged _PyStackRef: PyStackRef_NULL's
 * bits for unset, a tagged int (low bits Py_INT_TAG, value shifted), or an
 * object address with tag bits to clear. The bits all come from the
 * layout (generated from each version's pycore_stackref.h); nothing here
 * knows a version.
 */
#ifndef FT_STACKREF_H
#define FT_STACKREF_H

#include "layout.h"

enum ft_ref_kind { FT_REF_NULL, FT_REF_OBJECT, FT_REF_INT, FT_REF_INVALID };

struct ft_ref {
    enum ft_ref_kind kind;
    uint64_t addr;                /* FT_REF_OBJECT */
    int64_t value;                /* FT_REF_INT */
};

static inline struct ft_ref ft_ref_decode(const struct ft_layout *l, uint64_t bits)
{
    const struct ft_consts *c = &l->c;
    struct ft_ref r = {FT_REF_NULL, 0, 0};
    if (bits == c->stackref_null)     /* 0 before 3.14 */
        return r;
    if (c->stackref_int_tag && (bits & c->stackref_tag_bits) == c->stackref_int_tag) {
        r.kind = FT_REF_INT;
        r.value = (int64_t)bits >> c->stackref_int_shift; /* arithmetic: sign kept */
        return r;
    }
    uint64_t tag = bits & c->stackref_tag_bits;
    r.addr = bits & ~c->stackref_tag_bits;
    r.kind = r.addr && (tag == 0 || tag == c->stackref_refcnt_tag) ? FT_REF_OBJECT : FT_REF_INVALID;
    return r;
}

#endif
