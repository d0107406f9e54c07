/*
 * wire.c - building and reading probe messages (wire.h). Lengths are
 * little-endian u32; every read is checked against the bytes held.
 */
#include "wire.h"

#include <stdio.h>
#include <string.h>

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ftw_init(struct ftw_buf *b, void *mem, size_t cap)
{
    b->p = mem;
    b->cap = cap < FTW_MAX_MESSAGE ? cap : FTW_MAX_MESSAGE;
    b->len = b->start = 0;
    b->overflow = 0;
}

void ftw_begin(struct ftw_buf *b, unsigned type)
{
    b->start = b->len;
    b->overflow = 0;
    if (b->len + 5 > b->cap) {
        b->overflow = 1;
        return;
    }
    put_u32(b->p + b->len, 1);
    b->p[b->len + 4] = (unsigned char)type;
    b->len += 5;
}

size_t ftw_room(const struct ftw_buf *b)
{
    return b->overflow || b->len + 5 > b->cap ? 0 : b->cap - b->len - 5;
}

int ftw_field(struct ftw_buf *b, unsigned tag, const void *data, size_t len)
{
    if (b->overflow || len > ftw_room(b)) {
        b->overflow = 1;
        return -1;
    }
    b->p[b->len] = (unsigned char)tag;
    put_u32(b->p + b->len + 1, (uint32_t)len);
    if (len)
        memcpy(b->p + b->len + 5, data, len);
    b->len += 5 + len;
    return 0;
}

int ftw_field_str(struct ftw_buf *b, unsigned tag, const char *s)
{
    return ftw_field(b, tag, s, s ? strlen(s) : 0);
}

int ftw_field_u64(struct ftw_buf *b, unsigned tag, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return ftw_field(b, tag, num, (size_t)n);
}

int ftw_field_i64(struct ftw_buf *b, unsigned tag, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return ftw_field(b, tag, num, (size_t)n);
}

size_t ftw_end(struct ftw_buf *b)
{
    if (b->len < b->start + 5) {
        b->len = b->start;
        return 0;
    }
    put_u32(b->p + b->start, (uint32_t)(b->len - b->start - 4));
    return b->len - b->start;
}

long ftw_complete(const unsigned char *p, size_t n)
{
    if (n < 4)
        return 0;
    uint32_t len = get_u32(p);
    if (len < 1 || len > FTW_MAX_MESSAGE)
        return -1;
    return n >= (size_t)len + 4 ? (long)len + 4 : 0;
}

void ftw_open(const unsigned char *p, size_t size, struct ftw_msg *m)
{
    m->type = size > 4 ? p[4] : 0;
    m->body = p + 5;
    m->len = size > 5 ? size - 5 : 0;
}

int ftw_next(const struct ftw_msg *m, size_t *pos, unsigned *tag, const unsigned char **data,
             size_t *len)
{
    if (*pos >= m->len)
        return 0;
    if (m->len - *pos < 5)
        return -1;
    uint32_t n = get_u32(m->body + *pos + 1);
    if (n > m->len - *pos - 5)
        return -1;
    *tag = m->body[*pos];
    *data = m->body + *pos + 5;
    *len = n;
    *pos += 5 + n;
    return 1;
}

int ftw_get(const struct ftw_msg *m, unsigned tag, char *out, size_t cap)
{
    size_t pos = 0, len;
    unsigned t;
    const unsigned char *d;
    while (ftw_next(m, &pos, &t, &d, &len) == 1) {
        if (t != tag)
            continue;
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, d, n);
        out[n] = 0;
        return 1;
    }
    if (cap)
        out[0] = 0;
    return 0;
}
