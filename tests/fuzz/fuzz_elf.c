/*
 * fuzz_elf.c - libFuzzer target for the ELF reader: any file image must be
 * rejected or answered without reading outside it.
 */
#include "elf/elf_file.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *image = malloc(size ? size : 1);
    memcpy(image, data, size);
    struct ft_elf *e = ft_elf_open_memory(image, size);
    ft_error_clear();
    if (e) {
        uint64_t sz = 0, v;
        uint64_t at = ft_elf_symbol(e, "_PyRuntime", &sz);
        ft_elf_section(e, ".PyRuntime", &sz);
        char buf[16];
        ft_elf_read(e, at, buf, sizeof buf);
        ft_elf_read(e, ft_elf_symbol(e, "Py_Version", NULL), buf, 4);
        ft_elf_vaddr_of_offset(e, 0, &v);
        ft_elf_vaddr_of_offset(e, 0x1000, &v);
        ft_elf_close(e);
    }
    free(image);
    return 0;
}
