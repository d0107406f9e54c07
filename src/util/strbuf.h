/*
 * strbuf.h - a growable byte string for building output, optionally
 * drained into a file as it grows so that a large output never sits in
 * memory whole. Aborts on out-of-memory rather than returning half-built
 * text. Escaping of names lives in escape.h (included here).
 */
#ifndef FT_STRBUF_H
#define FT_STRBUF_H

#include <stddef.h>
#include <stdio.h>

struct strbuf {
    char *data;
    size_t len, cap;
    FILE *sink;       /* NULL: keep everything; else drained into it */
    int sink_failed;  /* a write to sink failed (errno kept in sink_errno) */
    int sink_errno;
};

void sb_init(struct strbuf *sb);
/* A buffer whose contents go to f whenever SB_DRAIN_AT bytes gather; call
 * sb_drain() at the end. data then holds only what is not yet written. */
void sb_init_sink(struct strbuf *sb, FILE *f);
/* Writes what is buffered to the sink; returns 0, or -1 if any write failed. */
int sb_drain(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_add(struct strbuf *sb, const char *bytes, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
__attribute__((format(printf, 2, 3)))
void sb_printf(struct strbuf *sb, const char *fmt, ...);

#define SB_DRAIN_AT 65536

#include "escape.h"

#endif
