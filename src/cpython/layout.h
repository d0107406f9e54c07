/*
 * layout.h - the resolved offsets for one target: a generated row for its
 * minor version, overridden (3.13+) by what its _Py_DebugOffsets publishes.
 * Layers above this file use struct ft_layout and never a version number to
 * find a field; version tests live in the generator, not in walkers.
 */
#ifndef FT_LAYOUT_H
#define FT_LAYOUT_H

#include "../target/process.h"
#include "offset_fields.h"

enum ft_linetable_format {
    FT_LNOTAB = 1,      /* 3.8-3.9: co_lnotab byte pairs               */
    FT_LINETABLE = 2,   /* 3.10: co_linetable (start delta, line delta) */
    FT_LOCATIONS = 3,   /* 3.11+: location table of varint entries      */
};

struct ft_layout {
    int major, minor;
    int ptr_size;                /* bytes of a pointer/Py_ssize_t in the target: 8, or 4 (wasm32) */
    uint64_t hexversion;         /* 0 when only the minor is known */
    const char *generated_from;
    int from_debug_offsets;      /* 3.13+: values read from the target */
    enum ft_linetable_format linetable;
    struct ft_offsets off;
    struct ft_consts c;
};

/* Oldest and newest minor versions with a generated row (for the host's
 * ABI; ft_layout_supported_abi for another pointer size). */
void ft_layout_supported(int *oldest, int *newest);
void ft_layout_supported_abi(int ptr_size, int *oldest, int *newest);

/* Picks the host row for major.minor (hexversion 0 if unknown) into out.
 * Fails with FT_E_VERSION naming the version if there is none. */
int ft_layout_for_version(int major, int minor, uint64_t hexversion, struct ft_layout *out);
/* The same among the rows generated for pointers of ptr_size bytes. */
int ft_layout_for_abi(int major, int minor, uint64_t hexversion, int ptr_size,
                      struct ft_layout *out);

/* 3.13+: reads and validates _Py_DebugOffsets at runtime_addr in the target,
 * picks the row for the version it states, and applies published offsets.
 * _abi: among the rows for pointers of ptr_size bytes (wasm32: 4). */
int ft_layout_from_debug_offsets(struct ft_proc *p, uint64_t runtime_addr,
                                 struct ft_layout *out);
int ft_layout_from_debug_offsets_abi(struct ft_proc *p, uint64_t runtime_addr, int ptr_size,
                                     struct ft_layout *out);

/* Renders hexversion (or major.minor) as "3.15.2" / "3.15.0b4". */
void ft_version_string(const struct ft_layout *l, char *buf, size_t size);

/* 1 before 3.11: every frame is an object of its own, allocated anywhere,
 * so a running thread's stack cannot be copied in a few ranges at once. */
int ft_layout_frames_are_objects(const struct ft_layout *l);

#endif
