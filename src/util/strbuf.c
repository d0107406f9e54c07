/*
 * strbuf.c - growable string (see strbuf.h). A sink-backed buffer writes
 * out whenever SB_DRAIN_AT bytes gather, so its memory stays bounded.
 * Never truncates: out-of-memory aborts.
 */
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
    memset(sb, 0, sizeof *sb);
}

void sb_init_sink(struct strbuf *sb, FILE *f)
{
    sb_init(sb);
    sb->sink = f;
}

void sb_free(struct strbuf *sb)
{
    free(sb->data);
    sb_init(sb);
}

int sb_drain(struct strbuf *sb)
{
    if (!sb->sink)
        return 0;
    if (sb->len && !sb->sink_failed && fwrite(sb->data, 1, sb->len, sb->sink) != sb->len) {
        sb->sink_failed = 1;
        sb->sink_errno = errno ? errno : EIO;
    }
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
    return sb->sink_failed ? -1 : 0;
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p)
        abort();
    sb->data = p;
    sb->cap = cap;
}

static void sb_added(struct strbuf *sb)
{
    if (sb->sink && sb->len >= SB_DRAIN_AT)
        sb_drain(sb);
}

void sb_add(struct strbuf *sb, const char *bytes, size_t n)
{
    sb_reserve(sb, n);
    memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    sb_added(sb);
}

void sb_puts(struct strbuf *sb, const char *s) { sb_add(sb, s, strlen(s)); }

/* Formats straight into the free room; measures and retries only when the
 * text does not fit. */
void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    sb_reserve(sb, 128);
    va_start(ap, fmt);
    int n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->data[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= sb->cap - sb->len) {
        sb_reserve(sb, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
    sb_added(sb);
}
