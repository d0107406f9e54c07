/*
 * pprof.c - gzipped profile.proto (proto/profile.proto), for `go tool pprof`
 * and every pprof viewer. Sample values: sample count and time in
 * nanoseconds; one location per distinct (function, line); a "thread" label
 * on every sample. Messages are built with protobuf-c and compressed with
 * zlib, streamed: the packed message goes to gzip piece by piece, never
 * whole into memory. String index 0 is the empty string, as the format
 * requires; strings are interned through a hash index. pprof prints names
 * on terminals, so every name goes through the text rule of util/escape.h.
 */
#include "profile_format.h"

#include "../util/error.h"
#include "../util/grow.h"
#include "../util/hindex.h"
#include "loc_index.h"
#include "profile.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef Frametap__Pprof__Profile Profile;
typedef Frametap__Pprof__ValueType ValueType;
typedef Frametap__Pprof__Sample Sample;
typedef Frametap__Pprof__Label Label;
typedef Frametap__Pprof__Location Location;
typedef Frametap__Pprof__Line Line;
typedef Frametap__Pprof__Function Function;
typedef Frametap__Pprof__Mapping Mapping;

struct strings {
    char **v;
    size_t n, cap;
    struct ft_hindex index;  /* string -> its index + 1 */
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h ^ (h >> 31);
}

static uint64_t entry_hash(const void *ctx, uint32_t id)
{
    return str_hash(((const struct strings *)ctx)->v[id - 1]);
}

static int entry_same(const void *ctx, uint32_t id, const void *key)
{
    return !strcmp(((const struct strings *)ctx)->v[id - 1], key);
}

/* Index of s in the string table, adding it if new. */
static int64_t intern(struct strings *t, const char *s)
{
    ft_hindex_reserve(&t->index, t->n, entry_hash, t);
    uint32_t *slot = ft_hindex_slot(&t->index, str_hash(s), entry_same, t, s);
    if (*slot)
        return *slot - 1;
    FT_GROW(t->v, t->cap, t->n + 1);
    t->v[t->n] = strdup(s);
    if (!t->v[t->n])
        abort();
    *slot = (uint32_t)++t->n;
    return (int64_t)t->n - 1;
}

/* Index of s escaped by the text rule. */
static int64_t intern_escaped(struct strings *t, struct strbuf *tmp, const char *s)
{
    tmp->len = 0;
    ft_esc_text(tmp, s, NULL);
    return intern(t, tmp->data ? tmp->data : "");
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

struct built {
    Profile prof;
    ValueType types[2], period_type;
    ValueType *type_ptrs[2];
    Function *funcs;
    Function **func_ptrs;
    Location *locs;
    Location **loc_ptrs;
    Line *lines;
    Line **line_ptrs;
    Sample *samples;
    Sample **sample_ptrs;
    Label *labels;
    Label **label_ptrs;
    Mapping mapping;
    Mapping *mapping_ptr;
    struct strings strings;
    struct strbuf tmp;
    struct ft_loc_index locs_index;
};

/* pprof simplifies C++ names by dropping <...>, which would erase Python's
 * <module>, <lambda> and f.<locals>.g: write the brackets as U+2039/U+203A
 * (in the escaped name). */
static int64_t intern_name(struct strings *t, struct strbuf *tmp, const char *name)
{
    struct strbuf esc;
    sb_init(&esc);
    ft_esc_text(&esc, name, NULL);
    tmp->len = 0;
    for (const char *c = esc.data ? esc.data : ""; *c; c++) {
        if (*c == '<')
            sb_puts(tmp, "\u2039");
        else if (*c == '>')
            sb_puts(tmp, "\u203a");
        else
            sb_add(tmp, c, 1);
    }
    sb_free(&esc);
    return intern(t, tmp->data ? tmp->data : "");
}

static void build_functions(struct built *b, const struct ft_profile *p)
{
    b->funcs = xcalloc(p->nfuncs, sizeof *b->funcs);
    b->func_ptrs = xcalloc(p->nfuncs, sizeof *b->func_ptrs);
    for (size_t i = 0; i < p->nfuncs; i++) {
        Function *f = &b->funcs[i];
        frametap__pprof__function__init(f);
        f->id = i + 1;
        f->name = intern_name(&b->strings, &b->tmp, p->funcs[i].qualname);
        f->system_name = intern_escaped(&b->strings, &b->tmp, p->funcs[i].qualname);
        f->filename = intern_escaped(&b->strings, &b->tmp, p->funcs[i].file);
        f->start_line = p->funcs[i].firstlineno < 0 ? 0 : p->funcs[i].firstlineno;
        b->func_ptrs[i] = f;
    }
    b->prof.n_function = p->nfuncs;
    b->prof.function = b->func_ptrs;
}

static void build_samples(struct built *b, const struct ft_profile *p, const struct ft_write_opts *o,
                          struct ft_progress *pg)
{
    int64_t thread_key = intern(&b->strings, "thread");
    b->samples = xcalloc(p->ncounts, sizeof *b->samples);
    b->sample_ptrs = xcalloc(p->ncounts, sizeof *b->sample_ptrs);
    b->labels = xcalloc(p->ncounts, sizeof *b->labels);
    b->label_ptrs = xcalloc(p->ncounts, sizeof *b->label_ptrs);
    struct strbuf label;
    sb_init(&label);
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        uint32_t depth = p->stacks[c->stack].depth;
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        Sample *s = &b->samples[i];
        frametap__pprof__sample__init(s);
        s->n_location_id = depth;
        s->location_id = xcalloc(depth, sizeof *s->location_id);
        for (uint32_t d = 0; d < depth; d++) /* leaf first, as pprof wants */
            s->location_id[d] = ft_loc_index_of(&b->locs_index, locs[d]) + 1;
        s->n_value = 2;
        s->value = xcalloc(2, sizeof *s->value);
        s->value[0] = (int64_t)c->count;
        s->value[1] = (int64_t)(c->count * o->interval_ns);
        Label *l = &b->labels[i];
        frametap__pprof__label__init(l);
        label.len = 0;
        ft_thread_label(&label, p, c->thread);
        l->key = thread_key;
        l->str = intern_escaped(&b->strings, &b->tmp, label.data);
        b->label_ptrs[i] = l;
        s->n_label = 1;
        s->label = &b->label_ptrs[i];
        b->sample_ptrs[i] = s;
        ft_progress_step(pg, i, 2 * p->ncounts);
    }
    sb_free(&label);
    b->prof.n_sample = p->ncounts;
    b->prof.sample = b->sample_ptrs;
}

static void build_locations(struct built *b)
{
    size_t n = b->locs_index.n;
    b->locs = xcalloc(n, sizeof *b->locs);
    b->loc_ptrs = xcalloc(n, sizeof *b->loc_ptrs);
    b->lines = xcalloc(n, sizeof *b->lines);
    b->line_ptrs = xcalloc(n, sizeof *b->line_ptrs);
    for (size_t i = 0; i < n; i++) {
        Line *ln = &b->lines[i];
        frametap__pprof__line__init(ln);
        ln->function_id = b->locs_index.locs[i].func + 1;
        ln->line = b->locs_index.locs[i].line < 0 ? 0 : b->locs_index.locs[i].line;
        b->line_ptrs[i] = ln;
        Location *l = &b->locs[i];
        frametap__pprof__location__init(l);
        l->id = i + 1;
        l->mapping_id = 1;
        l->n_line = 1;
        l->line = &b->line_ptrs[i];
        b->loc_ptrs[i] = l;
    }
    b->prof.n_location = n;
    b->prof.location = b->loc_ptrs;
}

static void build_header(struct built *b, const struct ft_profile *p, const struct ft_write_opts *o)
{
    const char *kind = o->mode && !strcmp(o->mode, "wall") ? "wall" : "cpu";
    frametap__pprof__value_type__init(&b->types[0]);
    frametap__pprof__value_type__init(&b->types[1]);
    frametap__pprof__value_type__init(&b->period_type);
    b->types[0].type = intern(&b->strings, "samples");
    b->types[0].unit = intern(&b->strings, "count");
    b->types[1].type = intern(&b->strings, kind);
    b->types[1].unit = intern(&b->strings, "nanoseconds");
    b->period_type = b->types[1];
    b->type_ptrs[0] = &b->types[0];
    b->type_ptrs[1] = &b->types[1];
    b->prof.n_sample_type = 2;
    b->prof.sample_type = b->type_ptrs;
    b->prof.period_type = &b->period_type;
    b->prof.period = (int64_t)o->interval_ns;
    b->prof.default_sample_type = 1;
    b->prof.duration_nanos = (int64_t)(p->end_ns - p->start_ns);
    frametap__pprof__mapping__init(&b->mapping);
    b->mapping.id = 1;
    b->mapping.filename = intern(&b->strings, "python");
    b->mapping.has_functions = b->mapping.has_filenames = b->mapping.has_line_numbers = 1;
    b->mapping_ptr = &b->mapping;
    b->prof.n_mapping = 1;
    b->prof.mapping = &b->mapping_ptr;
}

static void free_built(struct built *b, size_t nsamples)
{
    for (size_t i = 0; i < nsamples; i++) {
        free(b->samples[i].location_id);
        free(b->samples[i].value);
    }
    for (size_t i = 0; i < b->strings.n; i++)
        free(b->strings.v[i]);
    free(b->strings.v);
    ft_hindex_free(&b->strings.index);
    sb_free(&b->tmp);
    free(b->funcs); free(b->func_ptrs); free(b->locs); free(b->loc_ptrs);
    free(b->lines); free(b->line_ptrs); free(b->samples); free(b->sample_ptrs);
    free(b->labels); free(b->label_ptrs);
    ft_loc_index_free(&b->locs_index);
}

/* A protobuf-c output buffer that compresses into a gzip file. */
struct gz_buffer {
    ProtobufCBuffer base;
    gzFile gz;
    int failed;
    size_t done, total;
    struct ft_progress *pg;
};

static void gz_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data)
{
    struct gz_buffer *g = (struct gz_buffer *)buffer;
    g->done += len;
    ft_progress_step(g->pg, g->total + g->done, 2 * g->total);
    while (len && !g->failed) {
        unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
        if (gzwrite(g->gz, data, chunk) != (int)chunk)
            g->failed = 1;
        data += chunk;
        len -= chunk;
    }
}

/* Packing and compressing: the second half of the progress shown. */
static int write_gzip(const char *path, const Profile *prof, struct ft_progress *pg)
{
    errno = 0;
    struct gz_buffer g = {{gz_append}, gzopen(path, "wb6"), 0, 0, 0, pg};
    g.total = frametap__pprof__profile__get_packed_size(prof);
    if (!g.gz) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        return -1;
    }
    frametap__pprof__profile__pack_to_buffer(prof, &g.base);
    if (gzclose(g.gz) != Z_OK || g.failed) {
        ft_fail(FT_E_SYSTEM, "cannot write %s (gzip)", path);
        return -1;
    }
    return 0;
}

int ft_write_pprof(const char *path, const struct ft_profile *p, const struct ft_write_opts *o,
                   struct ft_progress *pg)
{
    struct built b;
    memset(&b, 0, sizeof b);
    frametap__pprof__profile__init(&b.prof);
    ft_loc_index_init(&b.locs_index);
    intern(&b.strings, "");
    build_header(&b, p, o);
    build_functions(&b, p);
    build_samples(&b, p, o, pg);
    build_locations(&b);
    b.prof.n_string_table = b.strings.n;
    b.prof.string_table = b.strings.v;
    int rc = write_gzip(path, &b.prof, pg);
    free_built(&b, p->ncounts);
    return rc;
}
