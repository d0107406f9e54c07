/*
 * thread_names.c - threading._active / _limbo -> ident and name (see
 * thread_names.h). Bounded by the dict reader's limits and FT_PYTHREADS_MAX.
 */
#include "thread_names.h"

#include "../util/error.h"
#include "code.h"
#include "objects.h"

#include <string.h>

struct name_list {
    struct ft_reader *r;
    struct ft_thread_name *v;
    size_t n, max;
};

const char *ft_thread_name_of(const struct ft_thread_name *v, size_t n, uint64_t ident)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].ident == ident)
            return v[i].name;
    return NULL;
}

/* Leaves an unreadable entry out; only losing the process stops the walk. */
static int skip_entry(void)
{
    enum ft_errkind k = ft_error_kind();
    if (k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM)
        return -1;
    ft_error_clear();
    return 0;
}

static int add(struct name_list *l, uint64_t ident, uint64_t thread)
{
    uint64_t name;
    if (l->n == l->max || ft_thread_name_of(l->v, l->n, ident))
        return 0;
    struct ft_thread_name *e = &l->v[l->n];
    int rc = ft_obj_attr(l->r, thread, "_name", &name);
    if (rc == 0)
        rc = ft_obj_str(l->r, name, e->name, sizeof e->name);
    if (rc < 0)
        return skip_entry();
    if (rc == 0) {
        e->ident = ident;
        l->n++;
    }
    return 0;
}

/* _active maps ident -> Thread; _limbo maps Thread -> Thread, whose _ident
 * is an int once the new thread has set it (None before). */
static int add_threads(struct name_list *l, uint64_t dict, int keyed_by_ident)
{
    struct ft_dict_iter it;
    uint64_t key, thread, ident_obj, ident;
    int rc;
    if (ft_dict_iter_init(l->r, dict, &it) < 0)
        return -1;
    while ((rc = ft_dict_iter_next(&it, &key, &thread)) == 1 && l->n < l->max) {
        int got = keyed_by_ident ? 0 : ft_obj_attr(l->r, thread, "_ident", &ident_obj);
        if (keyed_by_ident)
            ident_obj = key;
        if (got == 0 && ft_obj_u64(l->r, ident_obj, &ident) < 0)
            got = -1;
        if (got < 0 && skip_entry() < 0)
            return -1;
        if (got == 0 && add(l, ident, thread) < 0)
            return -1;
    }
    return rc < 0 ? -1 : 0;
}

int ft_thread_names(struct ft_reader *r, uint64_t interp, struct ft_thread_name *out, size_t max,
                    size_t *n)
{
    struct name_list l = {r, out, 0, max < FT_PYTHREADS_MAX ? max : FT_PYTHREADS_MAX};
    uint64_t module, globals, active, limbo;
    *n = 0;
    int rc = ft_find_module(r, interp, "threading", &module);
    if (rc == 0)
        rc = ft_module_dict(r, module, &globals);
    if (rc == 0)
        rc = ft_dict_lookup_str(r, globals, "_active", &active);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (add_threads(&l, active, 1) < 0)
        return -1;
    rc = ft_dict_lookup_str(r, globals, "_limbo", &limbo);
    if ((rc < 0 || (rc == 0 && add_threads(&l, limbo, 0) < 0)) && skip_entry() < 0)
        return -1;
    *n = l.n;
    return 0;
}
