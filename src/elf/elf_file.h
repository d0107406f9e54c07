/*
 * elf_file.h - what frametap needs from an ELF file on disk, via libelf:
 * symbol values (dynamic, then static table), section addresses, the
 * link-time address of a file offset (for the load bias) and small reads of
 * file-backed data at a link-time address. Files are hostile input: every
 * size comes from libelf's checked views, never from raw header arithmetic.
 */
#ifndef FT_ELF_FILE_H
#define FT_ELF_FILE_H

#include <stddef.h>
#include <stdint.h>

struct ft_elf;

/* Opens path. Returns NULL with ft_fail() set if it is not a usable ELF. */
struct ft_elf *ft_elf_open(const char *path);
/* Opens an in-memory image (for the fuzzer); the buffer must outlive it. */
struct ft_elf *ft_elf_open_memory(const char *image, size_t size);
void ft_elf_close(struct ft_elf *e);

/* Link-time address of a symbol (0 if absent); size optional. */
uint64_t ft_elf_symbol(struct ft_elf *e, const char *name, uint64_t *size);
/* Link-time address of a section (0 if absent); size optional. */
uint64_t ft_elf_section(struct ft_elf *e, const char *name, uint64_t *size);
/* Reads len bytes of initialized file data at link-time address vaddr.
 * Returns 0 or -1 (not in any section with file contents). */
int ft_elf_read(struct ft_elf *e, uint64_t vaddr, void *buf, size_t len);
/* Link-time address at which file offset off is loaded (via its PT_LOAD). */
int ft_elf_vaddr_of_offset(struct ft_elf *e, uint64_t off, uint64_t *vaddr);

/* The GNU build-id as lowercase hex (libdw's dwelf). Returns 0 or -1. */
int ft_elf_build_id(struct ft_elf *e, char *hex, size_t size);

#endif
