/*
 * procset.c - see procset.h. A child that is not (yet) Python is looked at
 * again on later scans a few times, since it may exec Python after fork;
 * a target that exits stays in the profile with what it gave.
 */
#include "procset.h"

#include "../target/procfs.h"
#include "../util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_NS 250000000ull
#define MAX_DESCENDANTS 4096
#define ROOT_CHECK_NS 100000000ull

static struct ft_target *add_target(struct ft_procset *set, struct ft_session *ses, int label_pid)
{
    struct ft_target *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->session = *ses;
    t->active = 1;
    if (ft_sampler_init(&t->sampler, &t->session, set->profile, &set->opts) < 0) {
        free(t);
        return NULL;
    }
    /* the sampler holds the session's address: rebind after the copy */
    t->sampler.session = &t->session;
    t->session.reader.proc = &t->session.proc;
    t->session.reader.layout = &t->session.rt.layout;
    t->sampler.label_pid = label_pid;
    set->v[set->n++] = t;
    return t;
}

int ft_procset_init(struct ft_procset *set, pid_t root, struct ft_session *root_session,
                    struct ft_profile *profile, const struct ft_sample_opts *opts, int follow)
{
    memset(set, 0, sizeof *set);
    set->profile = profile;
    set->opts = *opts;
    set->follow = follow;
    set->root = root;
    set->root_start = ft_proc_start_time(root);
    set->root_is_target = root_session != NULL;
    if (root_session && !add_target(set, root_session, 0)) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    return 0;
}

int ft_procset_add(struct ft_procset *set, struct ft_session *ses)
{
    if (set->n >= FT_PROCSET_MAX || !add_target(set, ses, 0)) {
        ft_fail(FT_E_SYSTEM, "out of memory (or more than %d targets)", FT_PROCSET_MAX);
        return -1;
    }
    return 0;
}

struct ft_target *ft_procset_first(const struct ft_procset *set)
{
    return set->n ? set->v[0] : NULL;
}

/* The root has ended: it is gone, a zombie, or its pid names a process
 * that started later (pids are reused). */
static int root_ended(const struct ft_procset *set)
{
    uint64_t start = ft_proc_start_time(set->root);
    return !start || start != set->root_start || ft_proc_is_exiting(set->root);
}

/* Children of every thread of pid, appended to out (bounded). */
static size_t children_of(pid_t pid, pid_t *out, size_t n, size_t max)
{
    pid_t tids[256];
    ssize_t nt = ft_list_threads(pid, tids, 256);
    ft_error_clear();
    for (ssize_t i = 0; i < nt && n < max; i++) {
        char path[96];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tids[i]);
        char *text = ft_read_small_file(path, 65536);
        for (char *p = text; p && *p && n < max;) {
            char *end;
            long c = strtol(p, &end, 10);
            if (end == p)
                break;
            if (c > 0)
                out[n++] = (pid_t)c;
            p = end;
        }
        free(text);
    }
    return n;
}

static int tried(struct ft_procset *set, pid_t pid)
{
    for (size_t i = 0; i < set->ntried; i++)
        if (set->tried[i] == pid)
            return 1;
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i]->session.proc.pid == pid)
            return 1;
    return 0;
}

/* A root that was not Python may exec it (a shell runs its last command
 * in place): it is tried on every scan until it is. */
static void scan_children(struct ft_procset *set)
{
    static pid_t found[MAX_DESCENDANTS];
    size_t n = 0;
    if (!set->root_is_target && !tried(set, set->root))
        found[n++] = set->root;
    const size_t first_child = n;
    n = children_of(set->root, found, n, MAX_DESCENDANTS);
    for (size_t i = first_child; i < n; i++) /* breadth first: found grows as we go */
        n = children_of(found[i], found, n, MAX_DESCENDANTS);
    for (size_t i = 0; i < n && set->n < FT_PROCSET_MAX; i++) {
        if (tried(set, found[i]))
            continue;
        struct ft_session ses;
        ft_error_clear();
        if (ft_session_open(&ses, found[i], FT_DISC_AUTO) == 0) {
            if (!add_target(set, &ses, set->root_is_target || set->n > 0))
                ft_session_close(&ses);
        } else if (ft_error_kind() != FT_E_NOTPY && set->ntried < 1024) {
            set->tried[set->ntried++] = found[i]; /* not Python for good (or gone) */
        }
        ft_error_clear();
    }
}

int ft_procset_round(struct ft_procset *set, uint64_t now)
{
    if (set->follow && now >= set->next_scan) {
        scan_children(set);
        set->next_scan = now + SCAN_NS;
    }
    size_t active = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct ft_target *t = set->v[i];
        if (!t->active)
            continue;
        if (ft_sampler_round(&t->sampler, now) == 0) {
            active++;
            continue;
        }
        int exited = ft_error_kind() == FT_E_EXITED || ft_proc_is_exiting(t->session.proc.pid);
        if (i == 0 && set->root_is_target)
            return exited || root_ended(set) ? 1 : -1;
        t->active = 0; /* a child that ends keeps its samples */
        ft_error_clear();
    }
    /* every 100 ms or so: is the root still the process we were given? */
    if (now >= set->next_root_check) {
        set->next_root_check = now + ROOT_CHECK_NS;
        if (root_ended(set) && (set->root_is_target || !active))
            return 1;
    }
    return 0;
}

void ft_procset_totals(const struct ft_procset *set, uint64_t *samples, uint64_t *errors,
                       uint64_t *rounds)
{
    *samples = *errors = 0;
    *rounds = set->n ? set->v[0]->sampler.rounds : 0;
    for (size_t i = 0; i < set->n; i++) {
        *samples += set->v[i]->sampler.samples;
        *errors += set->v[i]->sampler.errors;
    }
}

void ft_procset_free(struct ft_procset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        ft_sampler_free(&set->v[i]->sampler);
        ft_session_close(&set->v[i]->session);
        free(set->v[i]);
    }
    set->n = 0;
}

void ft_procset_causes(const struct ft_procset *set, struct ft_err_tally *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < set->n; i++)
        ft_tally_merge(out, &set->v[i]->sampler.causes);
}
