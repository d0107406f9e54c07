/*
 * trace_common.c - the format table and the small lookups every trace
 * writer shares (thread labels, an event's code and offset).
 */
#include "trace_output.h"
#include <string.h>

static const struct ft_trace_format formats[] = {
    { FT_TFMT_COUNTS, "counts", ".counts.txt", "most-entered functions, per second",
      ft_trace_write_counts },
    { FT_TFMT_CHROME, "chrome", ".json", "Chrome Trace Event JSON (Perfetto, speedscope)",
      ft_trace_write_chrome },
    { FT_TFMT_TEXT, "text", ".txt", "call hierarchy with timestamps, like SystemTap's",
      ft_trace_write_text },
    { FT_TFMT_RAW, "raw", ".ftt", "the raw trace, for 'frametap trace --from'", NULL },
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const struct ft_trace_format *ft_trace_formats(size_t *n)
{
    *n = NFORMATS;
    return formats;
}

const struct ft_trace_format *ft_trace_format_named(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

const struct ft_trace_format *ft_trace_format_for(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < NFORMATS; i++) {
        size_t s = strlen(formats[i].suffix);
        if (n >= s && strcmp(path + n - s, formats[i].suffix) == 0)
            return &formats[i];
    }
    return ft_trace_format_named("text");
}

void ft_trace_thread_label(const struct ft_trace *t, uint32_t thread, char *buf, size_t cap)
{
    const struct ft_tthread *th = &t->threads[thread];
    const char *name = th->name && *th->name ? th->name : "thread";
    if (t->nprocs > 1)
        snprintf(buf, cap, "[pid %u] %s(%u)", t->procs[th->proc].pid, name, th->tid);
    else
        snprintf(buf, cap, "%s(%u)", name, th->tid);
}

const struct ft_tcode *ft_trace_event_code(const struct ft_trace *t, const struct ft_tevent *e)
{
    switch (e->kind) {
    case FT_REC_CALL: case FT_REC_RESUME: case FT_REC_RETURN: case FT_REC_YIELD:
    case FT_REC_UNWIND: case FT_REC_LINE: case FT_REC_OPCODE: case FT_REC_RAISE:
    case FT_REC_RERAISE: case FT_REC_HANDLED:
        return ft_trace_code(t, t->threads[e->thread].proc, e->a);
    default:
        return NULL;
    }
}

uint32_t ft_trace_event_offset(const struct ft_tevent *e)
{
    uint32_t off = 0;
    if (e->kind >= FT_REC_FIRST_BLOB) {
        if (e->payload && e->c >= 4)
            memcpy(&off, e->payload, 4);
        return off;
    }
    return e->c;
}
