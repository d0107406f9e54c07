/*
 * corefile.c - opening a core file as a target (see corefile.h): the core
 * mapped read-only, its notes parsed (core.c), its files found
 * (core_files.c), then one sorted memory image (the core's bytes first,
 * pages of verified local files where the core has none) and a memory map
 * like /proc/PID/maps. Never writes to the core or to any file.
 */
#include "corefile.h"

#include "../util/error.h"
#include "../util/grow.h"
#include "maps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void ft_core_warn(struct ft_core *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **w = realloc(c->warnings, (c->nwarnings + 1) * sizeof *w);
    if (!w)
        return;
    c->warnings = w;
    if ((w[c->nwarnings] = strdup(line)) != NULL)
        c->nwarnings++;
}

static int map_core(struct ft_core *c, const char *path)
{
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        ft_fail(errno == ENOENT ? FT_E_BADCORE : FT_E_SYSTEM, "cannot open core file %s: %s%s",
                path, strerror(errno), errno == ENOENT ? " (check the path)" : "");
        return -1;
    }
    struct stat st;
    if (fstat(c->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ft_fail(FT_E_BADCORE, "%s is not a regular file: give the path of a core file", path);
        return -1;
    }
    if (st.st_size == 0) {
        ft_fail(FT_E_BADCORE, "%s is empty: the core dump was not written (core size limit "
                "'ulimit -c' of 0, or a full disk)", path);
        return -1;
    }
    c->size = (size_t)st.st_size;
    void *m = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, c->fd, 0);
    if (m == MAP_FAILED) {
        ft_fail(FT_E_SYSTEM, "cannot map core file %s: %s", path, strerror(errno));
        return -1;
    }
    c->data = m;
    return 0;
}

static int seg_by_addr(const void *a, const void *b)
{
    const struct ft_image_segment *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct seglist {
    struct ft_image_segment *v;
    size_t n, cap;
};

static void seg_add(struct seglist *l, uint64_t addr, const unsigned char *data, size_t len)
{
    if (!len)
        return;
    FT_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = (struct ft_image_segment){addr, data, len};
}

/* The pieces of [start, end) the core holds no bytes for, filled from the
 * local file at file_offset + (addr - start). core[] is sorted. */
static void add_file_pieces(struct seglist *out, const struct ft_image_segment *core, size_t ncore,
                            const struct ft_core_file *f, const struct ft_core_object *o)
{
    uint64_t at = f->start;
    size_t i = 0;
    while (i < ncore && core[i].addr + core[i].len <= at)
        i++;
    while (at < f->end) {
        uint64_t next_core = i < ncore ? core[i].addr : f->end;
        uint64_t gap_end = next_core < f->end ? next_core : f->end;
        if (gap_end > at) {
            uint64_t off = f->file_offset + (at - f->start);
            if (off < o->size) {
                uint64_t len = gap_end - at;
                if (len > o->size - off)
                    len = o->size - off;
                seg_add(out, at, o->bytes + off, (size_t)len);
            }
        }
        if (i >= ncore || next_core >= f->end)
            break;
        at = core[i].addr + core[i].len;
        i++;
    }
}

/* Sorted, without overlaps: where a hostile core overlaps itself the
 * earlier segment wins. */
static void normalize(struct seglist *l)
{
    qsort(l->v, l->n, sizeof *l->v, seg_by_addr);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct ft_image_segment s = l->v[i];
        if (k) {
            const struct ft_image_segment *p = &l->v[k - 1];
            uint64_t pend = p->addr + p->len;
            if (s.addr < pend) {
                if (s.addr + s.len <= pend)
                    continue;
                size_t cut = (size_t)(pend - s.addr);
                s.addr += cut;
                s.data += cut;
                s.len -= cut;
            }
        }
        l->v[k++] = s;
    }
    l->n = k;
}

static int build_image(struct ft_core *c)
{
    struct seglist core = {0}, all = {0};
    const struct ft_core_info *in = &c->info;
    for (size_t i = 0; i < in->nloads; i++)
        if (in->loads[i].filesz)
            seg_add(&core, in->loads[i].vaddr, in->data + in->loads[i].offset,
                    (size_t)in->loads[i].filesz);
    normalize(&core);
    for (size_t i = 0; i < core.n; i++)
        seg_add(&all, core.v[i].addr, core.v[i].data, core.v[i].len);
    for (size_t i = 0; i < in->nfiles; i++) {
        const struct ft_core_object *o = &c->objs[c->file_obj[i]];
        if (o->bytes)
            add_file_pieces(&all, core.v, core.n, &in->files[i], o);
    }
    free(core.v);
    normalize(&all);
    c->segs = all.v;
    c->image = (struct ft_image){all.v, all.n}; /* sorted: ft_proc knows it from ->core */
    return 0;
}

static void perms_of(uint32_t flags, char out[5])
{
    out[0] = (flags & PF_R) ? 'r' : '-';
    out[1] = (flags & PF_W) ? 'w' : '-';
    out[2] = (flags & PF_X) ? 'x' : '-';
    out[3] = 'p';
    out[4] = '\0';
}

static int map_by_start(const void *a, const void *b)
{
    const struct ft_map *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void map_add(struct ft_maps *m, size_t *cap, uint64_t start, uint64_t end, const char *perms,
                    const struct ft_core_file *f)
{
    FT_GROW(m->v, *cap, m->n + 1);
    struct ft_map *e = &m->v[m->n++];
    memset(e, 0, sizeof *e);
    e->start = start;
    e->end = end;
    memcpy(e->perms, perms, 5);
    if (f) {
        e->offset = f->file_offset + (start - f->start);
        e->deleted = f->deleted;
        e->path = strdup(f->path);
    }
}

/* Every PT_LOAD (named after the file mapped there), then the file
 * mappings no PT_LOAD covers (gcore leaves out what it does not dump). */
static void build_maps(struct ft_core *c)
{
    const struct ft_core_info *in = &c->info;
    size_t cap = 0;
    for (size_t i = 0; i < in->nloads; i++) {
        const struct ft_core_load *l = &in->loads[i];
        char perms[5];
        perms_of(l->flags, perms);
        if (l->memsz)
            map_add(&c->maps, &cap, l->vaddr, l->vaddr + l->memsz, perms,
                    ft_core_file_at(in, l->vaddr));
    }
    size_t nloads = c->maps.n;
    qsort(c->maps.v, nloads, sizeof *c->maps.v, map_by_start);
    for (size_t i = 0; i < in->nfiles; i++) {
        const struct ft_core_file *f = &in->files[i];
        int covered = 0;
        for (size_t k = 0; k < nloads && !covered; k++)
            covered = c->maps.v[k].start < f->end && f->start < c->maps.v[k].end;
        if (!covered)
            map_add(&c->maps, &cap, f->start, f->end, "r--p", f);
    }
    qsort(c->maps.v, c->maps.n, sizeof *c->maps.v, map_by_start);
    /* clip overlaps so that lookups by address stay well defined */
    size_t k = 0;
    for (size_t i = 0; i < c->maps.n; i++) {
        struct ft_map *m = &c->maps.v[i];
        if (k && m->start < c->maps.v[k - 1].end)
            m->start = c->maps.v[k - 1].end;
        if (m->start >= m->end) {
            free(m->path);
            continue;
        }
        c->maps.v[k++] = *m;
    }
    c->maps.n = k;
}

/* gdb (13 at least) writes zeros for a whole mapping it cannot read in
 * one piece, such as a thread stack with a guard region installed by a
 * newer glibc (MADV_GUARD_INSTALL): the frames on that stack are lost.
 * A stopped thread's stack pointer always has live data above it. */
static void find_lost_stacks(struct ft_core *c)
{
    const struct ft_core_info *in = &c->info;
    c->lost_stacks = calloc(in->nthreads ? in->nthreads : 1, sizeof *c->lost_stacks);
    if (!c->lost_stacks)
        return;
    for (size_t i = 0; i < in->nthreads; i++) {
        const unsigned char *b = ft_core_bytes(in, in->threads[i].sp, 256);
        size_t k = 0;
        while (b && k < 256 && b[k] == 0)
            k++;
        if (b && k == 256)
            c->lost_stacks[c->nlost++] = in->threads[i].tid;
    }
    if (c->nlost)
        ft_core_warn(c, "the core holds only zeros for the C stack of %zu of its %zu threads "
                     "(thread %d%s): the writer could not read it (gdb's gcore cannot read thread "
                     "stacks that newer glibc guards with MADV_GUARD_INSTALL; kernel cores can), "
                     "so what lives on it is lost", c->nlost, in->nthreads, (int)c->lost_stacks[0],
                     c->nlost > 1 ? " and others" : "");
}

int ft_core_stack_lost(const struct ft_core *c, int64_t tid)
{
    for (size_t i = 0; i < c->nlost; i++)
        if (c->lost_stacks[i] == tid)
            return 1;
    return 0;
}

int ft_core_open(struct ft_core *c, const char *path, const char *executable,
                 const char *search_root)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->path, sizeof c->path, "%s", path);
    if (map_core(c, path) < 0 || ft_core_parse(c->data, c->size, path, &c->info) < 0 ||
        ft_core_find_files(c, executable, search_root) < 0 || build_image(c) < 0) {
        ft_core_close(c);
        return -1;
    }
    build_maps(c);
    find_lost_stacks(c);
    return 0;
}

int ft_core_open_memory(struct ft_core *c, const unsigned char *data, size_t size)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->path, sizeof c->path, "core image");
    if (ft_core_parse(data, size, c->path, &c->info) < 0 || ft_core_list_objects(c) < 0 ||
        build_image(c) < 0) {
        ft_core_close(c);
        return -1;
    }
    build_maps(c);
    find_lost_stacks(c);
    return 0;
}

void ft_core_close(struct ft_core *c)
{
    for (size_t i = 0; i < c->nobjs; i++) {
        if (c->objs[i].bytes)
            munmap((void *)c->objs[i].bytes, c->objs[i].size);
        free(c->objs[i].local);
    }
    free(c->objs);
    free(c->file_obj);
    free(c->segs);
    free(c->lost_stacks);
    ft_maps_free(&c->maps);
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    ft_core_info_free(&c->info);
    if (c->data && c->fd >= 0)
        munmap((void *)c->data, c->size);
    if (c->fd >= 0)
        close(c->fd);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

int ft_core_proc(const struct ft_core *c, struct ft_proc *p)
{
    ft_proc_open_image(p, &c->image);
    p->core = c;
    snprintf(p->comm, sizeof p->comm, "%s", c->info.fname[0] ? c->info.fname : "core");
    p->maps.v = calloc(c->maps.n ? c->maps.n : 1, sizeof *p->maps.v);
    if (!p->maps.v) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < c->maps.n; i++) {
        p->maps.v[i] = c->maps.v[i];
        p->maps.v[i].path = c->maps.v[i].path ? strdup(c->maps.v[i].path) : NULL;
    }
    p->maps.n = c->maps.n;
    return 0;
}

const char *ft_core_local_path(const struct ft_core *c, const char *mapped_path)
{
    for (size_t i = 0; i < c->nobjs; i++)
        if (strcmp(c->objs[i].path, mapped_path) == 0)
            return c->objs[i].local;
    return NULL;
}
