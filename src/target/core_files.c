/*
 * core_files.c - finding, on this machine, the files a core's process had
 * mapped (see corefile.h). For each distinct path of NT_FILE, in order:
 * --executable for the executable; SEARCH_ROOT/path; a file of the same
 * name anywhere under SEARCH_ROOT; the path itself. A candidate is taken
 * only if its GNU build-id is the one the core's copy of its ELF header
 * shows (when the core has that page; when the note lies beyond what the
 * core holds, its ELF and program headers must be those of the core's
 * copy); a mismatch is a warning and the
 * file is not used, so a library upgraded since the crash can never lend
 * its bytes to the dump. Never opens anything for writing.
 */
#include "corefile.h"

#include "../elf/elf_file.h"
#include "../util/error.h"
#include "../util/grow.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_MAX 200000      /* files looked at under a search root */
#define WARN_MISSING_MAX 8    /* missing files named one by one */

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Files under the search root by name, built once (nftw has no context
 * argument: the index being built is a file-scope pointer). */
struct root_index {
    char **paths;
    size_t n, cap;
};
static struct root_index *building;

static int index_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode)) {
        FT_GROW(building->paths, building->cap, building->n + 1);
        building->paths[building->n++] = strdup(path);
    }
    return building->n >= INDEX_MAX;
}

static void index_root(struct root_index *ix, const char *root)
{
    memset(ix, 0, sizeof *ix);
    if (!root)
        return;
    building = ix;
    nftw(root, index_one, 32, FTW_PHYS);
    building = NULL;
}

static void index_free(struct root_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->paths[i]);
    free(ix->paths);
}

/* The build-id of a local file, hex; "" when it has none or is no ELF. */
static void local_build_id(const char *path, char *hex, size_t size)
{
    hex[0] = '\0';
    struct ft_elf *e = ft_elf_open(path);
    if (e && ft_elf_build_id(e, hex, size) < 0)
        hex[0] = '\0';
    ft_elf_close(e);
    ft_error_clear();
}

static int regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct pick {
    char want[2 * FT_CORE_BUILD_ID_MAX + 1]; /* the core's build-id, "" unknown */
    const unsigned char *head;               /* else the core's copy of its first bytes */
    size_t head_len;
    char *found;                             /* first candidate that matches */
    char mismatch[PATH_MAX];                 /* first that did not */
    char mismatch_id[2 * FT_CORE_BUILD_ID_MAX + 1];
};

/* Whether path has the ELF header and program headers that the core's
 * copy of its first page shows (the rest of that page may have been
 * written since: some binaries keep .dynamic there, and ld.so fills it). */
static int same_headers(const char *path, const unsigned char *head, size_t len)
{
    unsigned char buf[4096];
    Elf64_Ehdr eh;
    FILE *f = fopen(path, "rb");
    size_t got = f && len <= sizeof buf ? fread(buf, 1, len, f) : 0;
    if (f)
        fclose(f);
    if (got != len || len < sizeof eh || memcmp(buf, head, sizeof eh) != 0)
        return 0;
    memcpy(&eh, head, sizeof eh);
    size_t ph = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    if (eh.e_phoff > len || ph > len - eh.e_phoff)
        return 1; /* the headers the core holds agree */
    return memcmp(buf + eh.e_phoff, head + eh.e_phoff, ph) == 0;
}

static int consider(struct pick *p, const char *path)
{
    if (p->found || !regular_file(path))
        return p->found != NULL;
    if (!p->want[0] && p->head && !same_headers(path, p->head, p->head_len)) {
        /* no build-id in the core: its copy of the file's first page decides */
        if (!p->mismatch[0]) {
            snprintf(p->mismatch, sizeof p->mismatch, "%s", path);
            snprintf(p->mismatch_id, sizeof p->mismatch_id, "-");
        }
        return 0;
    }
    if (p->want[0]) {
        char have[2 * FT_CORE_BUILD_ID_MAX + 1];
        local_build_id(path, have, sizeof have);
        if (strcmp(have, p->want) != 0) {
            if (!p->mismatch[0]) {
                snprintf(p->mismatch, sizeof p->mismatch, "%s", path);
                snprintf(p->mismatch_id, sizeof p->mismatch_id, "%s", have[0] ? have : "none");
            }
            return 0;
        }
    }
    p->found = strdup(path);
    return 1;
}

static void pick_file(struct ft_core_object *o, const char *executable, const char *root,
                      const struct root_index *ix, struct pick *p)
{
    char buf[PATH_MAX * 2];
    if (o->is_exe && executable) {
        consider(p, executable);
        return;
    }
    if (root) {
        snprintf(buf, sizeof buf, "%s/%s", root, o->path[0] == '/' ? o->path + 1 : o->path);
        if (consider(p, buf))
            return;
        for (size_t i = 0; i < ix->n; i++)
            if (strcmp(base_of(ix->paths[i]), base_of(o->path)) == 0 && consider(p, ix->paths[i]))
                return;
    }
    consider(p, o->path);
}

static int map_local(struct ft_core_object *o)
{
    int fd = open(o->local, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    o->bytes = m;
    o->size = (size_t)st.st_size;
    return 0;
}

/* Which object is the executable: the one whose mapping holds AT_PHDR,
 * else the first file mapped. */
static void mark_exe(struct ft_core *c)
{
    const struct ft_core_file *f = c->info.at_phdr ? ft_core_file_at(&c->info, c->info.at_phdr) : NULL;
    if (!f && c->info.nfiles)
        f = &c->info.files[0];
    if (!f)
        return;
    size_t idx = c->file_obj[(size_t)(f - c->info.files)];
    c->objs[idx].is_exe = 1;
    c->exe = &c->objs[idx];
}

static int add_objects(struct ft_core *c)
{
    const struct ft_core_info *in = &c->info;
    c->objs = calloc(in->nfiles ? in->nfiles : 1, sizeof *c->objs);
    c->file_obj = calloc(in->nfiles ? in->nfiles : 1, sizeof *c->file_obj);
    if (!c->objs || !c->file_obj) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < in->nfiles; i++) {
        const struct ft_core_file *f = &in->files[i];
        size_t k = 0;
        while (k < c->nobjs && strcmp(c->objs[k].path, f->path) != 0)
            k++;
        if (k == c->nobjs)
            c->objs[c->nobjs++].path = f->path;
        if (f->build_id_len && !c->objs[k].build_id) {
            c->objs[k].build_id = f->build_id;
            c->objs[k].build_id_len = f->build_id_len;
        }
        size_t len;
        const unsigned char *head = f->file_offset == 0 ? ft_core_prefix(in, f->start, 4096, &len)
                                                        : NULL;
        if (head && !c->objs[k].head) {
            c->objs[k].head = head;
            c->objs[k].head_len = len;
        }
        c->file_obj[i] = k;
    }
    return 0;
}

static int looks_like_code(const char *path)
{
    const char *b = base_of(path);
    return strstr(b, ".so") != NULL || strncmp(b, "python", 6) == 0;
}

int ft_core_list_objects(struct ft_core *c)
{
    if (add_objects(c) < 0)
        return -1;
    mark_exe(c);
    return 0;
}

int ft_core_find_files(struct ft_core *c, const char *executable, const char *root)
{
    if (ft_core_list_objects(c) < 0)
        return -1;
    if (executable && !regular_file(executable)) {
        ft_fail(FT_E_USAGE, "--executable %s: no such file", executable);
        return -1;
    }
    struct root_index ix;
    index_root(&ix, root);
    size_t missing = 0;
    for (size_t i = 0; i < c->nobjs; i++) {
        struct ft_core_object *o = &c->objs[i];
        struct pick p;
        memset(&p, 0, sizeof p);
        ft_core_hex(o->build_id, o->build_id ? o->build_id_len : 0, p.want, sizeof p.want);
        p.head = o->head;
        p.head_len = o->head_len;
        pick_file(o, executable, root, &ix, &p);
        o->local = p.found;
        if (o->local && map_local(o) < 0) {
            ft_core_warn(c, "cannot read %s (for %s): %s", o->local, o->path, strerror(errno));
            free(o->local);
            o->local = NULL;
        } else if (!o->local && p.mismatch[0] && p.want[0]) {
            ft_core_warn(c, "build-id mismatch: the process had %s with build-id %s, but %s has "
                         "build-id %s: not used (its code and read-only data stay unknown); give "
                         "the right file with %s", o->path, p.want, p.mismatch, p.mismatch_id,
                         o->is_exe ? "--executable" : "--lib-search-root");
        } else if (!o->local && p.mismatch[0]) {
            ft_core_warn(c, "file mismatch: the process had %s, and %s has other ELF headers "
                         "than the core's copy of it (the core has no build-id for it): not used "
                         "(its code and read-only data stay unknown); give the right file with %s",
                         o->path, p.mismatch, o->is_exe ? "--executable" : "--lib-search-root");
        } else if (!o->local && (o->build_id || looks_like_code(o->path)) &&
                   missing++ < WARN_MISSING_MAX) {
            ft_core_warn(c, "%s (mapped by the process) is not on this machine%s%s: its code and "
                         "read-only data stay unknown; give --lib-search-root DIR", o->path,
                         root ? " nor under " : "", root ? root : "");
        }
    }
    if (missing > WARN_MISSING_MAX)
        ft_core_warn(c, "... and %zu more files of the process are not on this machine",
                     missing - WARN_MISSING_MAX);
    index_free(&ix);
    return 0;
}
