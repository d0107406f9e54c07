/*
 * world.h - a memory image (tests/fuzz/pyimage.h) opened as a target, for
 * the C unit tests of the readers: one version's layout, the image built
 * so far and the builtin types' segment behind a struct ft_reader. Test
 * code only.
 */
#ifndef FT_WORLD_H
#define FT_WORLD_H

#include "../fuzz/pyimage.h"
#include "util/error.h"

struct world {
    struct ft_layout layout;
    struct pyimg img;
    unsigned char types[PYIMG_TYPES_SIZE];
    struct ft_image_segment seg[2];
    struct ft_image image;
    struct ft_proc proc;
    struct ft_reader r;
};

static inline void world_init(struct world *w, int minor)
{
    memset(w, 0, sizeof *w);
    if (ft_layout_for_version(3, minor, 0, &w->layout) < 0)
        abort();
    pyimg_init(&w->img, &w->layout);
    pyimg_build_types(&w->layout, w->types);
}

/* Maps the image as built so far (call again after changing it); the
 * builtin types the reader identified are kept. */
static inline struct ft_reader *world_open(struct world *w)
{
    w->seg[0] = (struct ft_image_segment){PYIMG_BASE, w->img.mem, pyimg_len(&w->img)};
    w->seg[1] = (struct ft_image_segment){PYIMG_TYPES, w->types, PYIMG_TYPES_SIZE};
    w->image = (struct ft_image){w->seg, 2};
    ft_proc_open_image(&w->proc, &w->image);
    uint64_t types[FT_BUILTIN_TYPES_MAX];
    memcpy(types, w->r.types, sizeof types);
    w->r = (struct ft_reader){.proc = &w->proc, .layout = &w->layout};
    memcpy(w->r.types, types, sizeof types);
    ft_error_clear();
    return &w->r;
}

#endif
