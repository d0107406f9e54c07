/*
 * fuzz_core.c - libFuzzer target for every parser of core files: the ELF
 * header and program headers, the notes (NT_PRSTATUS, NT_PRPSINFO,
 * NT_SIGINFO, NT_AUXV, NT_FILE), the build-id notes of the ELF headers the
 * core holds, the memory image and map built from them, and reads through
 * struct ft_proc, which may span segments. Any input must be refused with
 * an error or read without leaving its bytes; files named in it are never
 * opened (ft_core_open_memory).
 */
#include "target/corefile.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct ft_core core;
    ft_error_clear();
    if (ft_core_open_memory(&core, copy, size) == 0) {
        struct ft_proc p;
        if (ft_core_proc(&core, &p) == 0) {
            unsigned char buf[64];
            for (size_t i = 0; i < core.maps.n; i++) {
                const struct ft_map *m = &core.maps.v[i];
                ft_proc_read(&p, m->start, buf, sizeof buf);
                ft_proc_read(&p, m->end - 8, buf, sizeof buf); /* across the next segment */
                ft_proc_map_at(&p, m->start);
            }
            for (size_t i = 0; i < core.info.nthreads; i++) {
                ft_core_stack_lost(&core, core.info.threads[i].tid);
                ft_proc_read(&p, core.info.threads[i].sp, buf, sizeof buf);
            }
            for (size_t i = 0; i < core.info.nfiles; i++)
                ft_core_file_at(&core.info, core.info.files[i].start);
            char who[256];
            ft_proc_describe(&p, who, sizeof who);
            ft_proc_close(&p);
        }
        ft_core_close(&core);
    }
    ft_error_clear();
    free(copy);
    return 0;
}
