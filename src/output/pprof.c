/*
 * pprof.c - gzipped profile.proto (proto/profile.proto), for `go tool pprof`
 * and every pprof viewer. Sample values: sample count and time in
 * nanoseconds; one location per distinct (function, line); a "thread" label
 * on every sample. Messages are built with protobuf-c and compressed with
 * zlib. String index 0 is the empty string, as the format requires.
 * The strings table is searched linearly when interning: profiles have a few
 * thousand distinct names at most.
 */
#include "profile_format.h"

#include "../util/error.h"
#include "../util/grow.h"
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
};

/* Index of s in the string table, adding it if new. */
static int64_t intern(struct strings *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i], s))
            return (int64_t)i;
    FT_GROW(t->v, t->cap, t->n + 1);
    t->v[t->n] = strdup(s);
    if (!t->v[t->n])
        abort();
    return (int64_t)t->n++;
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
    struct ft_loc_index locs_index;
};

/* pprof simplifies C++ names by dropping <...>, which would erase Python's
 * <module>, <lambda> and f.<locals>.g: write the brackets as U+2039/U+203A. */
static int64_t intern_name(struct strings *t, const char *name)
{
    struct strbuf sb;
    sb_init(&sb);
    for (const char *c = name; *c; c++) {
        if (*c == '<')
            sb_puts(&sb, "\u2039");
        else if (*c == '>')
            sb_puts(&sb, "\u203a");
        else
            sb_add(&sb, c, 1);
    }
    int64_t i = intern(t, sb.data ? sb.data : "");
    sb_free(&sb);
    return i;
}

static void build_functions(struct built *b, const struct ft_profile *p)
{
    b->funcs = xcalloc(p->nfuncs, sizeof *b->funcs);
    b->func_ptrs = xcalloc(p->nfuncs, sizeof *b->func_ptrs);
    for (size_t i = 0; i < p->nfuncs; i++) {
        Function *f = &b->funcs[i];
        frametap__pprof__function__init(f);
        f->id = i + 1;
        f->name = intern_name(&b->strings, p->funcs[i].qualname);
        f->system_name = intern(&b->strings, p->funcs[i].qualname);
        f->filename = intern(&b->strings, p->funcs[i].file);
        f->start_line = p->funcs[i].firstlineno;
        b->func_ptrs[i] = f;
    }
    b->prof.n_function = p->nfuncs;
    b->prof.function = b->func_ptrs;
}

static void build_samples(struct built *b, const struct ft_profile *p, const struct ft_write_opts *o)
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
        l->str = intern(&b->strings, label.data);
        b->label_ptrs[i] = l;
        s->n_label = 1;
        s->label = &b->label_ptrs[i];
        b->sample_ptrs[i] = s;
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
    free(b->funcs); free(b->func_ptrs); free(b->locs); free(b->loc_ptrs);
    free(b->lines); free(b->line_ptrs); free(b->samples); free(b->sample_ptrs);
    free(b->labels); free(b->label_ptrs);
    ft_loc_index_free(&b->locs_index);
}

static int write_gzip(const char *path, const uint8_t *data, size_t len)
{
    gzFile gz = gzopen(path, "wb9");
    if (!gz) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        unsigned chunk = len - done > (1u << 30) ? (1u << 30) : (unsigned)(len - done);
        if (gzwrite(gz, data + done, chunk) != (int)chunk)
            break;
        done += chunk;
    }
    if (gzclose(gz) != Z_OK || done != len) {
        ft_fail(FT_E_SYSTEM, "cannot write %s (gzip)", path);
        return -1;
    }
    return 0;
}

int ft_write_pprof(const char *path, const struct ft_profile *p, const struct ft_write_opts *o)
{
    struct built b;
    memset(&b, 0, sizeof b);
    frametap__pprof__profile__init(&b.prof);
    ft_loc_index_init(&b.locs_index);
    intern(&b.strings, "");
    build_header(&b, p, o);
    build_functions(&b, p);
    build_samples(&b, p, o);
    build_locations(&b);
    b.prof.n_string_table = b.strings.n;
    b.prof.string_table = b.strings.v;
    size_t len = frametap__pprof__profile__get_packed_size(&b.prof);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    frametap__pprof__profile__pack(&b.prof, buf);
    int rc = write_gzip(path, buf, len);
    free(buf);
    free_built(&b, p->ncounts);
    return rc;
}
