/*
 * process.h - a live target process: the one place remote memory is read.
 *
 * Every read goes through ft_proc_read(), which bounds its length, counts
 * syscalls, and turns kernel errors into user-facing ft_fail() messages
 * (permission, exit). Nothing here knows about Python. Never writes to the
 * target; pausing (ptrace stop) is the only intrusion and only on request.
 */
#ifndef FT_PROCESS_H
#define FT_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"

#define FT_MAX_READ (16u << 20) /* one read never exceeds 16 MiB */

struct ft_map {
    uint64_t start, end, offset;
    uint64_t inode;          /* of the file mapped, 0 for anonymous memory */
    char perms[5];
    int deleted;             /* the file was deleted or replaced since */
    char *path;              /* NULL for anonymous mappings; without " (deleted)" */
};

struct ft_maps {
    struct ft_map *v;
    size_t n;
};

/* Memory that is not a live process: a core file's segments, or a fuzzer's
 * input. Reads outside every segment fail like unmapped addresses. */
struct ft_image_segment {
    uint64_t addr;
    const unsigned char *data;
    size_t len;
};

struct ft_image {
    const struct ft_image_segment *seg;
    size_t n;
};

struct ft_core;

/* A window of the process's memory that the readers address from 0: a
 * WebAssembly linear memory. Addresses handed to ft_proc_read() are then
 * offsets into it, translated to base + offset and refused past `size`
 * (the memory's extent found in the maps, re-found when a read goes past
 * it, never beyond `limit`: 4 GiB for wasm32). size 0: no window. */
struct ft_space {
    uint64_t base, size, limit;
    uint64_t next_refresh_ns;    /* maps are re-read at most this often */
};

struct ft_proc {
    pid_t pid;                   /* 0 for an image */
    const struct ft_image *image;
    const struct ft_core *core;  /* the core file an image comes from (its segments are
                                    sorted by address, not overlapping), or NULL */
    int mem_fd;              /* /proc/PID/mem fallback, -1 until needed */
    int use_mem_file;        /* process_vm_readv unavailable             */
    uint64_t syscalls;       /* remote read syscalls so far              */
    char comm[64];
    struct ft_maps maps;
    pid_t *paused;           /* threads we hold stopped, if any          */
    size_t npaused;
    int our_child;           /* 0 unknown, 1 frametap launched it, 2 not  */
    struct ft_nspid *ns;     /* thread ids in its PID namespace -> ours  */
    size_t nns, ns_cap;
    int ns_nested;           /* -1 unknown, 0 our namespace, 1 another    */
    struct ft_space space;   /* wasm: addresses are linear offsets here  */
};

/* Opens pid: checks it exists, reads its name and memory maps. */
int ft_proc_open(struct ft_proc *p, pid_t pid);
void ft_proc_close(struct ft_proc *p);
/* Opens a memory image instead of a process (no maps, no /proc). */
void ft_proc_open_image(struct ft_proc *p, const struct ft_image *image);

/* Reads len bytes at addr. Returns 0, or -1 with ft_fail() set. A fault on
 * an unmapped address is FT_E_CORRUPT; the process gone is FT_E_EXITED. */
int ft_proc_read(struct ft_proc *p, uint64_t addr, void *buf, size_t len);

/* Reads several ranges in one syscall where the kernel allows; each iov must
 * be fully read. Returns 0 or -1 with ft_fail() set. */
struct ft_remote_iov {
    uint64_t addr;
    void *buf;
    size_t len;
};
int ft_proc_readv(struct ft_proc *p, const struct ft_remote_iov *iov, size_t n);

/* Reads ranges in one syscall and returns how many bytes arrived, in order:
 * a range that is not mapped ends the read early instead of failing (for
 * speculative reads). -1 only when the process cannot be read at all. */
ssize_t ft_proc_readv_partial(struct ft_proc *p, const struct ft_remote_iov *iov, size_t n);

/* A thread id as the process itself reports it (its thread states, inside
 * a container's PID namespace) -> the id /proc and ptrace here know it
 * by. The same id when the process shares our namespace; -1 if unknown. */
int64_t ft_proc_host_tid(struct ft_proc *p, int64_t tid);

/* "process PID (comm)", or for a core "the process in core file PATH
 * (pid N, comm)": how error messages name the target. */
const char *ft_proc_describe(const struct ft_proc *p, char *buf, size_t size);

/* The mapping that holds addr, or NULL. */
const struct ft_map *ft_proc_map_at(const struct ft_proc *p, uint64_t addr);

/* Re-reads /proc/PID/maps (mappings change as the target runs). */
int ft_proc_reload_maps(struct ft_proc *p);

/* Makes every later read address the linear memory at base (wasm): its
 * size is the readable extent of the maps from base, at most limit. */
int ft_proc_set_space(struct ft_proc *p, uint64_t base, uint64_t limit);

#endif
