/*
 * remote.h - typed reads of target memory on top of ft_proc_read(). Inline
 * and tiny: every caller still gets the bounds and errors of the one reader.
 */
#ifndef FT_REMOTE_H
#define FT_REMOTE_H

#include "../target/process.h"

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

#endif
