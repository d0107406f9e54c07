/*
 * maps.h - parses /proc/PID/maps text into struct ft_maps.
 * Pure parsing, bounded: no I/O besides reading the given file.
 */
#ifndef FT_MAPS_H
#define FT_MAPS_H

#include "process.h"

#define FT_MAX_MAPS 262144

/* Parses maps text (NUL-terminated). Returns 0 or -1 (ft_fail set). */
int ft_maps_parse(const char *text, struct ft_maps *out);
int ft_maps_read(pid_t pid, struct ft_maps *out);
void ft_maps_free(struct ft_maps *m);

#endif
