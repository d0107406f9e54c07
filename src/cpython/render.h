/*
 * render.h - the one renderer of the target's values as text, from outside:
 * what `dump --locals` shows and what `tasks` names objects with.
 *
 * What it writes: Python's repr() for int (any size), bool, None, float
 * (shortest round trip), str (every kind), bytes, and for tuple, list,
 * dict, set and frozenset of such values; every other object, subclasses
 * of those included, as <TypeName at 0xADDR>. A container met again inside
 * itself is [...], {...} or (...), as Python writes it.
 *
 * What bounds it (struct ft_render_limits): characters written (then
 * "..." and `truncated`), items per container (then ", ..."), nesting depth
 * (deeper containers as <type at 0x...>), and bytes read from the target
 * per value. What cannot be read is written <unreadable 0xADDR>, never an
 * error for the whole value.
 *
 * What it must never do: call, import or evaluate anything in the target
 * (a __repr__ is never run: there is nothing to run it with), write to it,
 * read more than its limits allow, or take an object for a builtin type it
 * is not (objects.h decides, by ob_type). The text is UTF-8 and may hold
 * any printable character; writers escape it (util/escape.h) like any other
 * text from the target.
 */
#ifndef FT_RENDER_H
#define FT_RENDER_H

#include "../util/strbuf.h"
#include "code.h"
#include "stackref.h"

struct ft_render_limits {
    unsigned width;               /* characters of text per value */
    unsigned items;               /* items shown per container     */
    unsigned depth;               /* containers inside containers  */
    size_t bytes;                 /* bytes read from the target    */
};

#define FT_RENDER_WIDTH 200
#define FT_RENDER_ITEMS 16
#define FT_RENDER_DEPTH 4
#define FT_RENDER_BYTES (64u << 10)
#define FT_RENDER_WIDTH_MAX 100000

struct ft_render_result {
    int truncated;                /* a limit cut the text */
    int unreadable;               /* some part could not be read */
    char type[64];                /* the value's type name ("" if unknown) */
};

/* The per-dump memory of types seen (classification and names), so that a
 * type is read once. Types are never freed while a process is paused; a
 * running one may free a heap type and put another at its address, so
 * callers reading a running process make a fresh cache per read. */
struct ft_render_cache;
struct ft_render_cache *ft_render_cache_new(void);
void ft_render_cache_free(struct ft_render_cache *c);

/* Appends the text of the value ref (a frame slot or an object) to out.
 * cache may be NULL. Never fails: what cannot be read shows as such. */
void ft_render(struct ft_reader *r, struct ft_render_cache *cache, const struct ft_render_limits *lim,
               struct ft_ref ref, struct strbuf *out, struct ft_render_result *res);

#endif
