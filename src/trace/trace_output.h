/*
 * trace_output.h - what a loaded trace can be written as, one writer per
 * file. Writers only read the trace; a name that cannot be shown as it is
 * (markup, bad UTF-8) is escaped by the writer for its format.
 */
#ifndef FT_TRACE_OUTPUT_H
#define FT_TRACE_OUTPUT_H

#include <stdio.h>
#include "tracefile.h"

enum ft_trace_fmt { FT_TFMT_TEXT, FT_TFMT_CHROME, FT_TFMT_COUNTS, FT_TFMT_RAW };

struct ft_trace_format {
    enum ft_trace_fmt fmt;
    const char *name;
    const char *suffix;               /* matched against the end of a file name */
    const char *what;
    int (*write)(const struct ft_trace *t, FILE *f);
};

int ft_trace_write_text(const struct ft_trace *t, FILE *f);
int ft_trace_write_chrome(const struct ft_trace *t, FILE *f);
int ft_trace_write_counts(const struct ft_trace *t, FILE *f);

/* By --format name, or NULL. */
const struct ft_trace_format *ft_trace_format_named(const char *name);
/* By the output file's name (counts.txt before .txt), text when nothing fits. */
const struct ft_trace_format *ft_trace_format_for(const char *path);
const struct ft_trace_format *ft_trace_formats(size_t *n);

/* "name(tid)", with "[pid N] " first when the trace holds several processes. */
void ft_trace_thread_label(const struct ft_trace *t, uint32_t thread, char *buf, size_t cap);
/* The event's code (blob kinds too), or NULL. */
const struct ft_tcode *ft_trace_event_code(const struct ft_trace *t, const struct ft_tevent *e);
/* Instruction offset carried by a RAISE/RERAISE/HANDLED/OPCODE payload or a RETURN. */
uint32_t ft_trace_event_offset(const struct ft_tevent *e);

#endif
