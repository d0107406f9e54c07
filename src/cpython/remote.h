/*
 * remote.h - typed reads of target memory on top of ft_proc_read(). Inline
 * and tiny: every caller still gets the bounds and errors of the one reader.
 *
 * A "word" is whatever the target's ABI makes a pointer, Py_ssize_t, size_t
 * or long: 8 bytes on the host, 4 on wasm32 (the layout's ptr_size, from
 * the generated table). Fields of those types are read only through the
 * word helpers, never as u64; fields of fixed width (int64_t, int, bytes)
 * keep their own. Must never decide a width from anything but the layout.
 */
#ifndef FT_REMOTE_H
#define FT_REMOTE_H

#include "../target/process.h"
#include "layout.h"

static inline int ft_read_u64(struct ft_proc *p, uint64_t addr, uint64_t *out)
{
    return ft_proc_read(p, addr, out, sizeof *out);
}

static inline int ft_read_i32(struct ft_proc *p, uint64_t addr, int32_t *out)
{
    return ft_proc_read(p, addr, out, sizeof *out);
}

/* Field of a struct already copied into a local buffer. */
static inline uint64_t ft_u64_in(const void *buf, size_t bufsize, uint64_t off)
{
    uint64_t v = 0;
    if (off <= bufsize && bufsize - off >= sizeof v)
        __builtin_memcpy(&v, (const char *)buf + off, sizeof v);
    return v;
}

static inline int32_t ft_i32_in(const void *buf, size_t bufsize, uint64_t off)
{
    int32_t v = 0;
    if (off <= bufsize && bufsize - off >= sizeof v)
        __builtin_memcpy(&v, (const char *)buf + off, sizeof v);
    return v;
}

static inline uint8_t ft_u8_in(const void *buf, size_t bufsize, uint64_t off)
{
    return off < bufsize ? ((const uint8_t *)buf)[off] : 0;
}

/* A word of the target in a local copy (0 when it does not fit). */
static inline uint64_t ft_word_in(const struct ft_layout *l, const void *buf, size_t bufsize,
                                  uint64_t off)
{
    if (l->ptr_size == 4) {
        uint32_t v = 0;
        if (off <= bufsize && bufsize - off >= sizeof v)
            __builtin_memcpy(&v, (const char *)buf + off, sizeof v);
        return v;
    }
    return ft_u64_in(buf, bufsize, off);
}

/* The same, sign-extended (Py_ssize_t counts that may be negative). */
static inline int64_t ft_sword_in(const struct ft_layout *l, const void *buf, size_t bufsize,
                                  uint64_t off)
{
    uint64_t v = ft_word_in(l, buf, bufsize, off);
    return l->ptr_size == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
}

/* A word read from the target. */
static inline int ft_read_word(struct ft_proc *p, const struct ft_layout *l, uint64_t addr,
                               uint64_t *out)
{
    if (l->ptr_size == 4) {
        uint32_t v;
        int rc = ft_proc_read(p, addr, &v, sizeof v);
        *out = rc == 0 ? v : 0;
        return rc;
    }
    return ft_read_u64(p, addr, out);
}

#endif
