/*
 * tasks_format.h - renders `frametap tasks`: asyncio tasks as a tree of who
 * awaits whom (text, drawn as `python -m asyncio pstree` draws it) or as
 * JSON. Takes decoded values only (cpython/tasks.h); knows nothing of
 * offsets or remote memory. Every string from the target is escaped by
 * util/escape.h.
 */
#ifndef FT_TASKS_FORMAT_H
#define FT_TASKS_FORMAT_H

#include "../cpython/tasks.h"
#include "../util/strbuf.h"
#include "dump_format.h"

void ft_tasks_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_tasks *t);
void ft_tasks_json(struct strbuf *out, const struct ft_dump_header *h, const struct ft_tasks *t);

#endif
