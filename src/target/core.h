/*
 * core.h - what a core file says, parsed from its bytes: the memory it
 * holds (PT_LOAD), which files were mapped where (NT_FILE), the threads
 * (NT_PRSTATUS), the process (NT_PRPSINFO), the auxiliary vector
 * (NT_AUXV: the executable's program headers) and the fatal signal
 * (NT_SIGINFO), plus the GNU build-id of every mapped ELF file whose
 * first page the core holds.
 *
 * Parsing is pure and bounded: the core is a byte buffer (a mapped file
 * or a fuzzer's input); every count, offset and size is checked against
 * it before use, and nothing here opens files or reads a process. Cores
 * written by the kernel and by gdb's gcore are both x86-64 ELF ET_CORE
 * files; anything else is refused with a one-line FT_E_BADCORE error.
 */
#ifndef FT_CORE_H
#define FT_CORE_H

#include <stddef.h>
#include <stdint.h>

#define FT_CORE_MAX_SEGMENTS 1000000   /* program headers / NT_FILE entries accepted */
#define FT_CORE_MAX_THREADS 100000
#define FT_CORE_BUILD_ID_MAX 64

struct ft_core_load {                  /* one PT_LOAD: memory at vaddr */
    uint64_t vaddr, memsz;
    uint64_t offset, filesz;           /* its bytes in the core (filesz 0: not dumped) */
    uint32_t flags;                    /* PF_R | PF_W | PF_X */
};

struct ft_core_file {                  /* one NT_FILE entry */
    uint64_t start, end;
    uint64_t file_offset;              /* in bytes: what of the file is mapped at start */
    const char *path;                  /* as the process named it (NUL-terminated copy) */
    int deleted;                       /* the name ended in " (deleted)" */
    unsigned char build_id[FT_CORE_BUILD_ID_MAX]; /* from the core's copy of its ELF */
    size_t build_id_len;               /* header page; 0 when the core lacks it */
};

struct ft_core_thread {
    int32_t tid;                       /* pr_pid: the thread id in the target's namespace */
    int signal;                        /* pr_cursig */
    uint64_t pc, sp;                   /* rip and rsp of pr_reg */
};

struct ft_core_info {
    const unsigned char *data;         /* the whole core (not owned) */
    size_t size;
    struct ft_core_load *loads;
    size_t nloads;
    struct ft_core_file *files;        /* sorted by start */
    size_t nfiles;
    struct ft_core_thread *threads;    /* in note order: the first one took the signal */
    size_t nthreads;
    int pid;                           /* pr_pid of NT_PRPSINFO (or the first thread) */
    char fname[17];                    /* pr_fname: the command, cut to 15 bytes */
    char psargs[81];                   /* pr_psargs: the start of the command line */
    int signal;                        /* si_signo (or the first thread's pr_cursig) */
    int by_gdb;                        /* written by gdb (gcore): the signal is gdb's stop */
    int have_fault_addr;
    uint64_t fault_addr;               /* si_addr for SIGSEGV, SIGBUS, SIGILL, SIGFPE */
    uint64_t at_phdr;                  /* AT_PHDR: the executable's program headers */
    uint64_t at_execfn;                /* AT_EXECFN: address of the path it was run as */
    char *strings;                     /* storage behind files[].path */
};

/* Parses a core. Returns 0, or -1 with ft_fail(FT_E_BADCORE, ...) naming
 * what is wrong (what names the core in the message). */
int ft_core_parse(const unsigned char *data, size_t size, const char *what,
                  struct ft_core_info *out);
void ft_core_info_free(struct ft_core_info *c);

/* The bytes of [addr, addr+len) as the core itself holds them (no file
 * fallback), or NULL. */
const unsigned char *ft_core_bytes(const struct ft_core_info *c, uint64_t addr, size_t len);
/* As many bytes from addr as the core holds in one piece, up to max (at
 * least 64: an ELF header), in *len; NULL when it holds fewer. */
const unsigned char *ft_core_prefix(const struct ft_core_info *c, uint64_t addr, size_t max,
                                    size_t *len);
/* The NT_FILE entry mapping addr, or NULL. */
const struct ft_core_file *ft_core_file_at(const struct ft_core_info *c, uint64_t addr);

/* Hex of a build-id into out (2*len+1 bytes), "" when len is 0. */
void ft_core_hex(const unsigned char *id, size_t len, char *out, size_t size);

#endif
