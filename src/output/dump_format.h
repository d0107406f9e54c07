/*
 * dump_format.h - renders a snapshot for `frametap dump`, as text for
 * people or JSON for programs. Takes decoded values only; knows nothing of
 * offsets or remote memory.
 */
#ifndef FT_DUMP_FORMAT_H
#define FT_DUMP_FORMAT_H

#include "../cpython/walk.h"
#include "../util/strbuf.h"

struct ft_dump_header {
    int pid;
    const char *comm;
    const char *python_version;
    const char *binary;
    const char *build_id;
    const char *found_by;
    unsigned long long runtime_address;
    int paused;
};

void ft_dump_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s);
void ft_dump_json(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s);

#endif
