/*
 * maps.c - /proc/PID/maps parser. Lines that do not parse are skipped, not
 * trusted; the count is bounded by FT_MAX_MAPS.
 */
#include "maps.h"

#include "../util/error.h"
#include "procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ft_maps_free(struct ft_maps *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

#define DELETED " (deleted)"

static int parse_line(const char *line, struct ft_map *m)
{
    unsigned long long start, end, off, inode = 0;
    char perms[5];
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %4s %llx %*s %llu %n", &start, &end, perms, &off, &inode,
               &path_at) < 5 || start >= end)
        return -1;
    m->start = start;
    m->end = end;
    m->offset = off;
    m->inode = inode;
    memcpy(m->perms, perms, sizeof perms);
    const char *path = path_at > 0 ? line + path_at : "";
    m->path = (*path == '/') ? strdup(path) : NULL;
    /* a file deleted (or replaced by an upgrade) since it was mapped */
    size_t n = m->path ? strlen(m->path) : 0, k = strlen(DELETED);
    m->deleted = n > k && strcmp(m->path + n - k, DELETED) == 0;
    if (m->deleted)
        m->path[n - k] = '\0';
    return 0;
}

int ft_maps_parse(const char *text, struct ft_maps *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    const char *line = text;
    while (*line && out->n < FT_MAX_MAPS) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[4096 + 256];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            struct ft_map m;
            if (parse_line(buf, &m) == 0) {
                if (out->n == cap) {
                    cap = cap ? cap * 2 : 64;
                    struct ft_map *v = realloc(out->v, cap * sizeof *v);
                    if (!v) {
                        free(m.path);
                        ft_maps_free(out);
                        ft_fail(FT_E_SYSTEM, "out of memory reading memory maps");
                        return -1;
                    }
                    out->v = v;
                }
                out->v[out->n++] = m;
            }
        }
        line = eol ? eol + 1 : line + len;
    }
    return 0;
}

int ft_maps_read(pid_t pid, struct ft_maps *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    char *text = ft_read_small_file(path, 64u << 20);
    if (!text) {
        ft_proc_fail_errno(pid, errno, "read the memory maps");
        return -1;
    }
    int rc = ft_maps_parse(text, out);
    free(text);
    return rc;
}
