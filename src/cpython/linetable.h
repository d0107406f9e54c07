/*
 * linetable.h - maps a bytecode offset to a line number, for the three
 * formats CPython has used (see enum ft_linetable_format in layout.h).
 * Pure functions over a byte buffer that came from the target: they read
 * only within [table, table+len) and terminate on any input.
 */
#ifndef FT_LINETABLE_H
#define FT_LINETABLE_H

#include "layout.h"

#include <stddef.h>
#include <stdint.h>

/* Line for the instruction at byte offset `offset` of the bytecode, or -1
 * if the table gives it no line. An offset before the first instruction
 * (frames that have not started) gives firstlineno. */
int ft_line_for_offset(enum ft_linetable_format fmt, const uint8_t *table, size_t len,
                       int firstlineno, int64_t offset);

#endif
