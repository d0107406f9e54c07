/*
 * elf_file.c - libelf-backed lookups (see elf_file.h). Symbol tables are
 * scanned linearly once per lookup; frametap looks up a handful of symbols per
 * run, so no index is kept. Never trusts st_name/sh_name beyond libelf's
 * bounds-checked elf_strptr.
 */
#include "elf_file.h"

#include "../util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ft_elf {
    int fd;
    Elf *elf;
};

static int init_libelf(void)
{
    static int ready;
    if (!ready) {
        if (elf_version(EV_CURRENT) == EV_NONE) {
            ft_fail(FT_E_SYSTEM, "libelf is too old for this build");
            return -1;
        }
        ready = 1;
    }
    return 0;
}

static struct ft_elf *wrap(Elf *elf, int fd, const char *what)
{
    if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64) {
        ft_fail(FT_E_NOTPY, "%s is not a 64-bit ELF file", what);
        if (elf)
            elf_end(elf);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct ft_elf *e = calloc(1, sizeof *e);
    if (!e) {
        elf_end(elf);
        if (fd >= 0)
            close(fd);
        ft_fail(FT_E_SYSTEM, "out of memory");
        return NULL;
    }
    e->fd = fd;
    e->elf = elf;
    return e;
}

struct ft_elf *ft_elf_open(const char *path)
{
    if (init_libelf() < 0)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ft_fail(FT_E_SYSTEM, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    return wrap(elf_begin(fd, ELF_C_READ_MMAP, NULL), fd, path);
}

struct ft_elf *ft_elf_open_memory(const char *image, size_t size)
{
    if (init_libelf() < 0)
        return NULL;
    return wrap(elf_memory((char *)image, size), -1, "image");
}

void ft_elf_close(struct ft_elf *e)
{
    if (!e)
        return;
    elf_end(e->elf);
    if (e->fd >= 0)
        close(e->fd);
    free(e);
}

static uint64_t find_in_symtab(struct ft_elf *e, Elf64_Word type, const char *name,
                               uint64_t *size)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || sh.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            continue;
        size_t count = data->d_size / sh.sh_entsize;
        for (size_t i = 0; i < count; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym) || sym.st_value == 0 ||
                sym.st_shndx == SHN_UNDEF)
                continue;
            const char *n = elf_strptr(e->elf, sh.sh_link, sym.st_name);
            if (n && strcmp(n, name) == 0) {
                if (size)
                    *size = sym.st_size;
                return sym.st_value;
            }
        }
    }
    return 0;
}

uint64_t ft_elf_symbol(struct ft_elf *e, const char *name, uint64_t *size)
{
    uint64_t v = find_in_symtab(e, SHT_DYNSYM, name, size);
    return v ? v : find_in_symtab(e, SHT_SYMTAB, name, size);
}

static Elf_Scn *section_named(struct ft_elf *e, const char *name, GElf_Shdr *out)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
        return NULL;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
        if (!gelf_getshdr(scn, out))
            continue;
        const char *n = elf_strptr(e->elf, shstrndx, out->sh_name);
        if (n && strcmp(n, name) == 0)
            return scn;
    }
    return NULL;
}

uint64_t ft_elf_section(struct ft_elf *e, const char *name, uint64_t *size)
{
    GElf_Shdr sh;
    if (!section_named(e, name, &sh))
        return 0;
    if (size)
        *size = sh.sh_size;
    return sh.sh_addr;
}

int ft_elf_read(struct ft_elf *e, uint64_t vaddr, void *buf, size_t len)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !(sh.sh_flags & SHF_ALLOC))
            continue;
        if (vaddr < sh.sh_addr || vaddr - sh.sh_addr > sh.sh_size ||
            len > sh.sh_size - (vaddr - sh.sh_addr))
            continue;
        Elf_Data *data = elf_rawdata(scn, NULL);
        if (!data || !data->d_buf || data->d_size < sh.sh_size)
            return -1;
        memcpy(buf, (const char *)data->d_buf + (vaddr - sh.sh_addr), len);
        return 0;
    }
    return -1;
}

int ft_elf_vaddr_of_offset(struct ft_elf *e, uint64_t off, uint64_t *vaddr)
{
    size_t n;
    if (elf_getphdrnum(e->elf, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && i < 4096; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        uint64_t page_off = ph.p_offset & ~(uint64_t)0xfff;
        if (off >= page_off && off < ph.p_offset + ph.p_filesz) {
            *vaddr = ph.p_vaddr - ph.p_offset + off;
            return 0;
        }
    }
    return -1;
}

int ft_elf_build_id(struct ft_elf *e, char *hex, size_t size)
{
    const void *id = NULL;
    ssize_t n = dwelf_elf_gnu_build_id(e->elf, &id);
    if (n <= 0 || !id || size < 2 * (size_t)n + 1)
        return -1;
    for (ssize_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
    return 0;
}
