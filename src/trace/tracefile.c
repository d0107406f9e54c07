/*
 * tracefile.c - reads raw trace files (format in trace_format.h). Never
 * trusts a length: each chunk and record is bounded by what is left of its
 * container, every string must end inside its payload, ids are looked up,
 * never used as indexes.
 */
#include "tracefile.h"
#include "../util/error.h"
#include "../util/grow.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (8ull << 30)

static int cmp_code(const void *a, const void *b)
{
    uint32_t x = ((const struct ft_tcode *)a)->id, y = ((const struct ft_tcode *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_func(const void *a, const void *b)
{
    uint32_t x = ((const struct ft_tfunc *)a)->id, y = ((const struct ft_tfunc *)b)->id;
    return x < y ? -1 : x > y;
}

/* A NUL-terminated string starting at p inside [p, end), or NULL. */
static const char *str_in(const unsigned char *p, const unsigned char *end)
{
    if (p >= end)
        return NULL;
    return memchr(p, 0, (size_t)(end - p)) ? (const char *)p : NULL;
}

static void add_code(struct ft_tproc *pr, uint32_t id, const unsigned char *p, uint32_t len)
{
    const unsigned char *end = p + len;
    struct ft_trace_code_def head;
    if (len < sizeof head)
        return;
    memcpy(&head, p, sizeof head);
    const unsigned char *q = p + sizeof head;
    const char *names[3];
    for (int i = 0; i < 3; i++) {
        names[i] = str_in(q, end);
        if (!names[i])
            return;
        q += strlen(names[i]) + 1;
    }
    size_t room = (size_t)(end - q) / sizeof(struct ft_trace_line_range);
    FT_GROW(pr->codes, pr->codes_cap, pr->ncodes + 1);
    pr->codes[pr->ncodes++] = (struct ft_tcode){
        .id = id, .firstline = head.firstlineno, .qualname = names[0], .file = names[1],
        .module = names[2], .ranges = q, .nranges = head.nlines < room ? head.nlines : (uint32_t)room,
    };
}

static void add_opnames(struct ft_tproc *pr, const unsigned char *p, uint32_t len)
{
    const unsigned char *end = p + len;
    for (int i = 0; i < 256; i++) {
        const char *s = str_in(p, end);
        if (!s)
            return;
        pr->opnames[i] = s;
        p += strlen(s) + 1;
    }
}

static uint32_t thread_index(struct ft_trace *t, uint32_t proc, uint32_t tid, uint64_t ident)
{
    for (size_t i = t->nthreads; i-- > 0;)
        if (t->threads[i].proc == proc && t->threads[i].tid == tid)
            return (uint32_t)i;
    FT_GROW(t->threads, t->threads_cap, t->nthreads + 1);
    t->threads[t->nthreads] = (struct ft_tthread){ .proc = proc, .tid = tid, .ident = ident,
                                                   .name = "" };
    return (uint32_t)t->nthreads++;
}

/* Clock conversion for one file: ticks -> ns by the first and last pairs. */
struct clock_fit { uint64_t t0, n0, t1, n1; int ns_native; };

static uint64_t to_ns(const struct clock_fit *f, uint64_t ticks)
{
    if (f->ns_native)
        return ticks;
    double rate = f->t1 > f->t0 ? (double)(f->n1 - f->n0) / (double)(f->t1 - f->t0) : 1.0;
    double dt = (double)ticks - (double)f->t0;
    double ns = (double)f->n0 + dt * rate;
    return ns < 0 ? 0 : (uint64_t)ns;
}

static int fail_file(struct ft_tproc *pr, const char *what, size_t at)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s at byte %zu", what, at);
    pr->error = strdup(msg);
    return 0;
}

/* First pass over chunks: the clock pairs. Returns the last good end. */
static void fit_clock(struct clock_fit *f, const unsigned char *data, size_t len, size_t pos)
{
    while (pos + sizeof(struct ft_trace_chunk) <= len) {
        struct ft_trace_chunk ch;
        memcpy(&ch, data + pos, sizeof ch);
        if (ch.magic != FT_TRACE_CHUNK_MAGIC || ch.nbytes > FT_TRACE_MAX_CHUNK
            || ch.nbytes > len - pos - sizeof ch)
            break;
        if (ch.ticks > f->t1 && ch.ns > f->n1) {
            f->t1 = ch.ticks;
            f->n1 = ch.ns;
        }
        pos += sizeof ch + ch.nbytes;
    }
}

/* The chunk being read; its thread is created when a record needs it, so
 * the writer's closing chunk (tid 0, totals only) adds no thread. */
struct chunk_ctx { uint32_t proc, tid; uint64_t ident; uint32_t thread; };

static uint32_t ctx_thread(struct ft_trace *t, struct chunk_ctx *cx)
{
    if (cx->thread == UINT32_MAX)
        cx->thread = thread_index(t, cx->proc, cx->tid, cx->ident);
    return cx->thread;
}

static void read_record(struct ft_trace *t, struct ft_tproc *pr, struct chunk_ctx *cx,
                        const struct ft_trace_record *r, const unsigned char *payload)
{
    unsigned kind = FT_REC_KIND(r);
    uint32_t c = FT_REC_C(r);
    switch (kind) {
    case FT_REC_CODE_DEF:
        add_code(pr, r->a, payload, c);
        return;
    case FT_REC_FUNC_DEF: {
        const char *s = str_in(payload, payload + c);
        if (s) {
            FT_GROW(pr->funcs, pr->funcs_cap, pr->nfuncs + 1);
            pr->funcs[pr->nfuncs++] = (struct ft_tfunc){ r->a, s };
        }
        return;
    }
    case FT_REC_OPNAMES:
        add_opnames(pr, payload, c);
        return;
    case FT_REC_THREAD:
        if (c > 8) {
            const char *s = str_in(payload + 8, payload + c);
            uint32_t th = ctx_thread(t, cx);    /* may move t->threads */
            if (s && *s)
                t->threads[th].name = s;
        }
        break;                      /* also an event: "thread seen" */
    case FT_REC_STOP:
        if (c >= 16) {
            memcpy(&pr->total_events, payload, 8);
            memcpy(&pr->total_dropped, payload + 8, 8);
            pr->complete = 1;
        }
        return;
    default:
        if (kind == 0 || (kind > FT_REC_GC_STOP && kind < FT_REC_FIRST_BLOB) || kind > FT_REC_STOP)
            return;                 /* unknown kinds are skipped, not trusted */
    }
    uint32_t thread = ctx_thread(t, cx);
    FT_GROW(t->events, t->events_cap, t->nevents + 1);
    size_t at = t->nevents++;
    t->events[at] = (struct ft_tevent){
        .ns = r->ts, .thread = thread, .a = r->a, .c = c, .kind = (uint16_t)kind,
        .payload = kind >= FT_REC_FIRST_BLOB ? payload : NULL, .seq = at,
    };
}

/* A gap marker before the chunk whose first record is at p (its time; the
 * chunk's own clock pair when it holds none). */
static void add_gap(struct ft_trace *t, uint32_t thread, uint64_t dropped,
                    const unsigned char *p, size_t n, uint64_t ticks)
{
    struct ft_trace_record r;
    if (n >= sizeof r) {
        memcpy(&r, p, sizeof r);
        ticks = r.ts;
    }
    FT_GROW(t->events, t->events_cap, t->nevents + 1);
    size_t at = t->nevents++;
    t->events[at] = (struct ft_tevent){
        .ns = ticks, .thread = thread, .a = dropped > UINT32_MAX ? UINT32_MAX : (uint32_t)dropped,
        .kind = FT_TEV_GAP, .seq = at,
    };
}

/* Records of one chunk; returns 0 or a reason. */
static const char *read_chunk(struct ft_trace *t, struct ft_tproc *pr, struct chunk_ctx *cx,
                              const unsigned char *p, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        struct ft_trace_record r;
        if (n - pos < sizeof r)
            return "a record cut short";
        memcpy(&r, p + pos, sizeof r);
        pos += sizeof r;
        const unsigned char *payload = NULL;
        if (FT_REC_KIND(&r) >= FT_REC_FIRST_BLOB) {
            uint32_t len = FT_REC_C(&r);
            size_t padded = ((size_t)len + 15u) & ~(size_t)15u;
            if (len > FT_TRACE_MAX_PAYLOAD || padded > n - pos)
                return "a record longer than its chunk";
            payload = p + pos;
            pos += padded;
        }
        read_record(t, pr, cx, &r, payload);
    }
    return NULL;
}

int ft_trace_add_buffer(struct ft_trace *t, unsigned char *data, size_t len)
{
    FT_GROW(t->files, t->files_cap, t->nfiles + 1);
    t->files[t->nfiles++] = data;
    struct ft_trace_header h;
    if (len < sizeof h || memcmp(data, FT_TRACE_MAGIC, 8) != 0) {
        ft_fail(FT_E_CORRUPT, "not a frametap trace (no FTTRACE1 header): give the file "
                "written by 'frametap trace --raw' or frametap.trace()");
        return -1;
    }
    memcpy(&h, data, sizeof h);
    if (h.header_size < sizeof h || h.header_size > len) {
        ft_fail(FT_E_CORRUPT, "trace header of %u bytes does not fit the file", h.header_size);
        return -1;
    }
    FT_GROW(t->procs, t->procs_cap, t->nprocs + 1);
    uint32_t proc = (uint32_t)t->nprocs++;
    struct ft_tproc *pr = &t->procs[proc];
    *pr = (struct ft_tproc){ .pid = h.pid, .parent_pid = h.parent_pid, .python_hex = h.python_hex,
                             .events_mask = h.events_mask, .start_ns = h.start_ns };
    struct clock_fit fit = { h.start_ticks, h.start_ns, h.start_ticks, h.start_ns,
                             (h.flags & FT_TRACE_TS_NS) != 0 };
    fit_clock(&fit, data, len, h.header_size);
    size_t first_event = t->nevents, pos = h.header_size;
    while (pos < len) {
        struct ft_trace_chunk ch;
        if (len - pos < sizeof ch)
            return fail_file(pr, "a chunk header cut short", pos);
        memcpy(&ch, data + pos, sizeof ch);
        if (ch.magic != FT_TRACE_CHUNK_MAGIC)
            return fail_file(pr, "no chunk marker", pos);
        if (ch.nbytes > FT_TRACE_MAX_CHUNK || ch.nbytes > len - pos - sizeof ch)
            return fail_file(pr, "a chunk longer than the file", pos);
        struct chunk_ctx cx = { proc, ch.tid, ch.ident, UINT32_MAX };
        if (ch.dropped) {
            uint32_t th = ctx_thread(t, &cx);     /* may move t->threads */
            if (ch.dropped > t->threads[th].dropped) {
                add_gap(t, th, ch.dropped - t->threads[th].dropped, data + pos + sizeof ch,
                        ch.nbytes, ch.ticks);
                t->threads[th].dropped = ch.dropped;
            }
        }
        pr = &t->procs[proc];
        const char *why = read_chunk(t, pr, &cx, data + pos + sizeof ch, ch.nbytes);
        if (why)
            return fail_file(pr, why, pos);
        pos += sizeof ch + ch.nbytes;
    }
    for (size_t i = first_event; i < t->nevents; i++)
        t->events[i].ns = to_ns(&fit, t->events[i].ns);
    if (pr->ncodes)
        qsort(pr->codes, pr->ncodes, sizeof *pr->codes, cmp_code);
    if (pr->nfuncs)
        qsort(pr->funcs, pr->nfuncs, sizeof *pr->funcs, cmp_func);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ft_fail(errno == ENOENT ? FT_E_USAGE : FT_E_SYSTEM, "cannot read trace %s: %s",
                path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        FT_GROW(buf, cap, n + 65536);
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0 && n < MAX_FILE_BYTES);
    fclose(f);
    *len = n;
    return buf;
}

static int add_file(struct ft_trace *t, const char *path)
{
    size_t len;
    unsigned char *data = slurp(path, &len);
    return data ? ft_trace_add_buffer(t, data, len) : -1;
}

/* NAME is BASE.PID (a forked child) or BASE.PID.eN (a program a process
 * replaced itself with by os.exec*, the Nth). */
static int child_name(const char *n, const char *base, size_t blen)
{
    if (strncmp(n, base, blen) != 0 || n[blen] != '.')
        return 0;
    const char *p = n + blen + 1;
    size_t d = strspn(p, "0123456789");
    if (!d)
        return 0;
    if (!p[d])
        return 1;
    return p[d] == '.' && p[d + 1] == 'e' && p[d + 2] && strspn(p + d + 2, "0123456789")
                                                            == strlen(p + d + 2);
}

int ft_trace_each_child(const char *path, int (*fn)(void *, const char *), void *arg)
{
    char *dir = strdup(path);
    if (!dir)
        return 0;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    const char *dirname = slash ? (slash == dir ? "/" : dir) : ".";
    if (slash)
        *slash = 0;
    size_t blen = strlen(base);
    DIR *d = opendir(dirname);
    int rc = 0;
    for (struct dirent *de; d && rc == 0 && (de = readdir(d));) {
        if (!child_name(de->d_name, base, blen))
            continue;
        size_t need = strlen(dirname) + strlen(de->d_name) + 2;
        char *child = malloc(need);
        if (!child)
            break;
        snprintf(child, need, "%s/%s", dirname, de->d_name);
        rc = fn(arg, child);
        free(child);
    }
    if (d)
        closedir(d);
    free(dir);
    return rc;
}

static int add_child(void *arg, const char *path)
{
    return add_file(arg, path);
}

int ft_trace_load(struct ft_trace *t, const char *path)
{
    if (add_file(t, path) < 0)
        return -1;
    return ft_trace_each_child(path, add_child, t);
}

static int cmp_event(const void *a, const void *b)
{
    const struct ft_tevent *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;   /* same time: file order */
}

void ft_trace_finish(struct ft_trace *t)
{
    uint64_t origin = UINT64_MAX;
    for (size_t i = 0; i < t->nprocs; i++)
        if (t->procs[i].start_ns < origin)
            origin = t->procs[i].start_ns;
    for (size_t i = 0; i < t->nevents; i++)
        t->events[i].ns = t->events[i].ns > origin ? t->events[i].ns - origin : 0;
    if (t->nevents)
        qsort(t->events, t->nevents, sizeof *t->events, cmp_event);
}

void ft_trace_free(struct ft_trace *t)
{
    for (size_t i = 0; i < t->nprocs; i++) {
        free(t->procs[i].codes);
        free(t->procs[i].funcs);
        free(t->procs[i].error);
    }
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i]);
    free(t->files);
    free(t->procs);
    free(t->threads);
    free(t->events);
    memset(t, 0, sizeof *t);
}

const struct ft_tcode *ft_trace_code(const struct ft_trace *t, uint32_t proc, uint32_t id)
{
    if (proc >= t->nprocs)
        return NULL;
    const struct ft_tproc *pr = &t->procs[proc];
    struct ft_tcode key = { .id = id };
    return pr->ncodes ? bsearch(&key, pr->codes, pr->ncodes, sizeof key, cmp_code) : NULL;
}

const char *ft_trace_func(const struct ft_trace *t, uint32_t proc, uint32_t id)
{
    if (proc >= t->nprocs)
        return "?";
    const struct ft_tproc *pr = &t->procs[proc];
    struct ft_tfunc key = { .id = id };
    const struct ft_tfunc *f = pr->nfuncs ? bsearch(&key, pr->funcs, pr->nfuncs, sizeof key,
                                                    cmp_func) : NULL;
    return f ? f->name : "?";
}

/* An instruction without a line of its own (an exception handler's entry,
 * say) takes the next line the code reaches, as the handler's "except" line. */
int ft_trace_line_at(const struct ft_tcode *c, uint32_t offset)
{
    int found = 0;
    for (uint32_t i = 0; i < c->nranges; i++) {
        struct ft_trace_line_range r;
        memcpy(&r, c->ranges + (size_t)i * sizeof r, sizeof r);
        if (offset >= r.start && offset < r.end)
            found = 1;
        if (found && r.line >= 0)
            return r.line;
    }
    return (int)c->firstline;
}

const char *ft_trace_payload_str(const struct ft_tevent *e, size_t skip, unsigned i)
{
    if (!e->payload || skip >= e->c)
        return "";
    const unsigned char *p = e->payload + skip, *end = e->payload + e->c;
    for (;;) {
        const char *s = str_in(p, end);
        if (!s)
            return "";
        if (i-- == 0)
            return s;
        p += strlen(s) + 1;
    }
}
