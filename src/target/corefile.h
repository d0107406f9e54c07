/*
 * corefile.h - a core file opened as a target: the core's own memory,
 * with the pages it lacks (file-backed text and read-only data, which
 * neither the kernel nor gcore dump by default) read from the files the
 * process had mapped, found on this machine or under a search root, and
 * used only when their GNU build-id is the one the process had.
 *
 * Reads only local files; a file that differs from what the process
 * mapped is never used (a warning says which and why). Opening a core
 * gives the memory image and the memory map that struct ft_proc reads a
 * core through (ft_core_proc), so the rest of frametap reads a core as it
 * reads a stopped process.
 */
#ifndef FT_COREFILE_H
#define FT_COREFILE_H

#include "core.h"
#include "process.h"

#include <limits.h>

struct ft_core_object {              /* one file the process had mapped */
    const char *path;                /* as the process named it */
    char *local;                     /* the file used for it here; NULL: none usable */
    const unsigned char *bytes;      /* local's contents (mapped), NULL without local */
    size_t size;
    const unsigned char *build_id;   /* the core's (points into info.files); NULL unknown */
    size_t build_id_len;
    const unsigned char *head;       /* the core's copy of the file's first bytes, or NULL */
    size_t head_len;
    int is_exe;
};

struct ft_core {
    char path[PATH_MAX];
    int fd;
    const unsigned char *data;       /* the core, mapped */
    size_t size;
    struct ft_core_info info;
    struct ft_core_object *objs;     /* one per distinct mapped path */
    size_t nobjs;
    size_t *file_obj;                /* info.files[i] is objs[file_obj[i]] */
    const struct ft_core_object *exe; /* the executable, NULL when unknown */
    struct ft_image image;           /* core segments, then pages from local files */
    struct ft_image_segment *segs;
    struct ft_maps maps;             /* PT_LOAD segments and NT_FILE mappings */
    char **warnings;                 /* for the user, one line each */
    size_t nwarnings;
    int32_t *lost_stacks;            /* threads whose C stack the core holds as zeros */
    size_t nlost;
};

/* Opens core path. executable (may be NULL) names the executable's file
 * here; search_root (may be NULL) is a directory holding the target's
 * files, as a root (DIR/usr/lib/...) or anywhere below it by file name.
 * Returns 0, or -1 with ft_fail() set (FT_E_BADCORE, FT_E_SYSTEM). */
int ft_core_open(struct ft_core *c, const char *path, const char *executable,
                 const char *search_root);
/* A core already in memory (data must outlive c), without looking for
 * any file: the core's own bytes only (for the fuzzer and tests). */
int ft_core_open_memory(struct ft_core *c, const unsigned char *data, size_t size);
void ft_core_close(struct ft_core *c);

/* Opens p as a reader of core c (c must outlive p). */
int ft_core_proc(const struct ft_core *c, struct ft_proc *p);

/* Whether the core lost thread tid's C stack (gdb wrote zeros for it). */
int ft_core_stack_lost(const struct ft_core *c, int64_t tid);

/* The local file to use for a path the process mapped, NULL if none. */
const char *ft_core_local_path(const struct ft_core *c, const char *mapped_path);

/* Files (core_files.c): the distinct mapped files and which is the
 * executable (objs, file_obj, exe), without looking for any of them. */
int ft_core_list_objects(struct ft_core *c);
/* The same, then each found here (local, bytes) or warned about. */
int ft_core_find_files(struct ft_core *c, const char *executable, const char *search_root);
/* Adds a warning line (printf-style). */
__attribute__((format(printf, 2, 3)))
void ft_core_warn(struct ft_core *c, const char *fmt, ...);

#endif
