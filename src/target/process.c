/*
 * process.c - opening a target and the single remote-memory reader.
 *
 * process_vm_readv first (one syscall, no file descriptor), /proc/PID/mem
 * only where the kernel lacks it. Short reads are failures: callers never see
 * half-filled buffers. Never writes to the target.
 */
#include "process.h"

#include "../util/bsearch.h"
#include "../util/error.h"
#include "corefile.h"
#include "maps.h"
#include "procfs.h"
#include "wasm_memories.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int ft_proc_open(struct ft_proc *p, pid_t pid)
{
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->mem_fd = -1;
    p->ns_nested = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    char *comm = ft_read_small_file(path, 256);
    if (!comm) {
        ft_fail(FT_E_NOPROC, "no process with pid %d: check the pid (ps -ef)", (int)pid);
        return -1;
    }
    comm[strcspn(comm, "\n")] = '\0';
    snprintf(p->comm, sizeof p->comm, "%s", comm);
    free(comm);
    if (ft_maps_read(pid, &p->maps) < 0)
        return -1;
    if (p->maps.n == 0) {
        ft_fail(FT_E_EXITED, "process %d (%s) has exited (it has no memory left; a zombie "
                "waiting for its parent)", (int)pid, p->comm);
        return -1;
    }
    return 0;
}

void ft_proc_open_image(struct ft_proc *p, const struct ft_image *image)
{
    memset(p, 0, sizeof *p);
    p->mem_fd = -1;
    p->image = image;
    snprintf(p->comm, sizeof p->comm, "image");
}

/* The segment holding addr: binary search in a core's sorted image, a
 * scan in others (small: tests and fuzzers). */
static const struct ft_image_segment *image_segment(const struct ft_image *im, int sorted,
                                                    uint64_t addr)
{
    if (sorted) {
        size_t lo = ft_upper_bound(im->seg, im->n, sizeof *im->seg,
                                   offsetof(struct ft_image_segment, addr), addr);
        if (lo && addr - im->seg[lo - 1].addr < im->seg[lo - 1].len)
            return &im->seg[lo - 1];
        return NULL;
    }
    for (size_t i = 0; i < im->n; i++)
        if (addr >= im->seg[i].addr && addr - im->seg[i].addr < im->seg[i].len)
            return &im->seg[i];
    return NULL;
}

/* A read may span segments that follow each other without a gap (a core
 * holds one per mapping; a live read would span the mappings too). */
static int read_image(struct ft_proc *p, uint64_t addr, void *buf, size_t len)
{
    p->syscalls++;
    unsigned char *out = buf;
    uint64_t at = addr;
    size_t left = len;
    while (left) {
        const struct ft_image_segment *s = image_segment(p->image, p->core != NULL, at);
        if (!s) {
            ft_fail(FT_E_CORRUPT, "address 0x%llx (+%zu bytes) is not in the %s",
                    (unsigned long long)addr, len, p->core ? "core file" : "image");
            return -1;
        }
        size_t have = s->len - (size_t)(at - s->addr);
        size_t take = have < left ? have : left;
        memcpy(out, s->data + (at - s->addr), take);
        out += take;
        at += take;
        left -= take;
    }
    return 0;
}

void ft_proc_close(struct ft_proc *p)
{
    if (p->mem_fd >= 0)
        close(p->mem_fd);
    ft_maps_free(&p->maps);
    free(p->paused);
    p->paused = NULL;
    free(p->ns);
    p->ns = NULL;
    p->nns = 0;
    p->mem_fd = -1;
}

int ft_proc_reload_maps(struct ft_proc *p)
{
    struct ft_maps fresh;
    if (ft_maps_read(p->pid, &fresh) < 0)
        return -1;
    ft_maps_free(&p->maps);
    p->maps = fresh;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define SPACE_REFRESH_NS 20000000ull /* maps re-read at most every 20 ms */

static void space_refresh(struct ft_proc *p)
{
    uint64_t now = now_ns();
    if (now < p->space.next_refresh_ns || ft_proc_reload_maps(p) < 0)
        return;
    p->space.next_refresh_ns = now + SPACE_REFRESH_NS;
    uint64_t size = ft_maps_extent(&p->maps, p->space.base, p->space.limit);
    if (size)
        p->space.size = size;
}

int ft_proc_set_space(struct ft_proc *p, uint64_t base, uint64_t limit)
{
    p->space = (struct ft_space){base, 0, limit, 0};
    p->space.size = ft_maps_extent(&p->maps, base, limit);
    if (!p->space.size) {
        ft_fail(FT_E_CORRUPT, "no readable memory at 0x%llx in process %d", (unsigned long long)base,
                (int)p->pid);
        return -1;
    }
    return 0;
}

/* A linear address of the window -> the process's address; refused past
 * the memory's extent (found again, rate-limited, when the memory may have
 * grown since). */
static int space_addr(struct ft_proc *p, uint64_t addr, size_t len, uint64_t *out)
{
    const struct ft_space *s = &p->space;
    if (addr > s->limit || len > s->limit - addr) {
        ft_fail(FT_E_CORRUPT, "linear address 0x%llx (+%zu bytes) is beyond a wasm memory",
                (unsigned long long)addr, len);
        return -1;
    }
    if (len > s->size || addr > s->size - len)
        space_refresh(p);
    if (len > s->size || addr > s->size - len) {
        ft_fail(FT_E_CORRUPT, "linear address 0x%llx (+%zu bytes) is past the end of the wasm "
                "memory (%llu bytes)", (unsigned long long)addr, len, (unsigned long long)s->size);
        return -1;
    }
    *out = s->base + addr;
    return 0;
}

/* Why a read failed: gone, forbidden, or just an address that is not mapped. */
static void fail_read(struct ft_proc *p, int err, uint64_t addr, size_t len)
{
    if (err == EFAULT || err == EIO || err == 0) {
        if (kill(p->pid, 0) < 0 && errno == ESRCH) {
            ft_proc_fail_errno(p->pid, ESRCH, "read the memory");
            return;
        }
        ft_fail(FT_E_CORRUPT, "address 0x%llx (+%zu bytes) is not readable in process %d",
                (unsigned long long)addr, len, (int)p->pid);
        return;
    }
    ft_proc_fail_errno(p->pid, err, "read the memory");
}

static int read_mem_file(struct ft_proc *p, uint64_t addr, void *buf, size_t len)
{
    if (p->mem_fd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mem", (int)p->pid);
        p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (p->mem_fd < 0) {
            ft_proc_fail_errno(p->pid, errno, "open the memory");
            return -1;
        }
    }
    p->syscalls++;
    ssize_t n = pread(p->mem_fd, buf, len, (off_t)addr);
    if (n == (ssize_t)len)
        return 0;
    fail_read(p, n < 0 ? errno : 0, addr, len);
    return -1;
}

int ft_proc_read(struct ft_proc *p, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len > FT_MAX_READ || addr == 0 || addr + len < addr) {
        ft_fail(FT_E_CORRUPT, "refusing a remote read of %zu bytes at 0x%llx", len,
                (unsigned long long)addr);
        return -1;
    }
    if (p->space.limit && space_addr(p, addr, len, &addr) < 0)
        return -1;
    if (p->image)
        return read_image(p, addr, buf, len);
    if (p->use_mem_file)
        return read_mem_file(p, addr, buf, len);
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    p->syscalls++;
    ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    if (n < 0 && errno == ENOSYS) {
        p->use_mem_file = 1;
        return read_mem_file(p, addr, buf, len);
    }
    fail_read(p, n < 0 ? errno : 0, addr, len);
    return -1;
}

int ft_proc_readv(struct ft_proc *p, const struct ft_remote_iov *iov, size_t n)
{
    enum { BATCH = 512 }; /* below IOV_MAX (1024) */
    for (size_t done = 0; done < n;) {
        struct iovec local[BATCH], remote[BATCH];
        size_t k = 0, total = 0;
        for (; k < BATCH && done + k < n; k++) {
            const struct ft_remote_iov *r = &iov[done + k];
            uint64_t at = r->addr;
            if (r->len == 0 || r->len > FT_MAX_READ || r->addr == 0 ||
                (p->space.limit && space_addr(p, r->addr, r->len, &at) < 0))
                return ft_proc_read(p, r->addr, r->buf, r->len);
            local[k] = (struct iovec){r->buf, r->len};
            remote[k] = (struct iovec){(void *)(uintptr_t)at, r->len};
            total += r->len;
        }
        ssize_t got = -1;
        if (!p->use_mem_file && !p->image) {
            p->syscalls++;
            got = process_vm_readv(p->pid, local, k, remote, k, 0);
        }
        if (got != (ssize_t)total) {
            /* Partial or failed: redo one by one to name the bad range. */
            for (size_t i = 0; i < k; i++)
                if (ft_proc_read(p, iov[done + i].addr, iov[done + i].buf, iov[done + i].len) < 0)
                    return -1;
        }
        done += k;
    }
    return 0;
}

const char *ft_proc_describe(const struct ft_proc *p, char *buf, size_t size)
{
    if (p->core)
        snprintf(buf, size, "the process in core file %s (pid %d, %s)", p->core->path,
                 p->core->info.pid, p->comm);
    else
        snprintf(buf, size, "process %d (%s)", (int)p->pid, p->comm);
    return buf;
}

const struct ft_map *ft_proc_map_at(const struct ft_proc *p, uint64_t addr)
{
    size_t lo = 0, hi = p->maps.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ft_map *m = &p->maps.v[mid];
        if (addr < m->start)
            hi = mid;
        else if (addr >= m->end)
            lo = mid + 1;
        else
            return m;
    }
    return NULL;
}

ssize_t ft_proc_readv_partial(struct ft_proc *p, const struct ft_remote_iov *iov, size_t n)
{
    enum { MAX_IOV = 1024 }; /* IOV_MAX */
    if (n == 0 || n > MAX_IOV || p->image || p->use_mem_file) {
        /* No vector read here: read piece by piece and stop at the first hole. */
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            if (ft_proc_read(p, iov[i].addr, iov[i].buf, iov[i].len) < 0) {
                if (ft_error_kind() != FT_E_CORRUPT)
                    return -1;
                ft_error_clear();
                break;
            }
            total += iov[i].len;
        }
        return (ssize_t)total;
    }
    struct iovec local[MAX_IOV], remote[MAX_IOV];
    size_t k = 0;
    for (; k < n; k++) {
        uint64_t at = iov[k].addr;
        if (p->space.limit && space_addr(p, iov[k].addr, iov[k].len, &at) < 0) {
            ft_error_clear(); /* like an unmapped range: the read ends there */
            break;
        }
        local[k] = (struct iovec){iov[k].buf, iov[k].len};
        remote[k] = (struct iovec){(void *)(uintptr_t)at, iov[k].len};
    }
    if (k == 0)
        return 0;
    n = k;
    p->syscalls++;
    ssize_t got = process_vm_readv(p->pid, local, n, remote, n, 0);
    if (got >= 0)
        return got;
    if (errno == EFAULT)
        return 0;
    fail_read(p, errno, iov[0].addr, iov[0].len);
    return -1;
}

#define NS_MAX 4096

static void reload_ns(struct ft_proc *p)
{
    if (!p->ns && !(p->ns = malloc(NS_MAX * sizeof *p->ns))) {
        p->nns = 0;
        return;
    }
    p->nns = ft_ns_tids(p->pid, p->ns, NS_MAX);
    if (p->ns_nested < 0)
        p->ns_nested = p->nns > 0;
}

int64_t ft_proc_host_tid(struct ft_proc *p, int64_t tid)
{
    if (tid <= 0 || p->pid <= 0)
        return tid;
    if (p->ns_nested < 0)
        reload_ns(p);
    if (!p->ns_nested)
        return tid;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->nns; i++)
            if (p->ns[i].inner == tid)
                return p->ns[i].host;
        if (pass == 0)
            reload_ns(p); /* a thread started since */
    }
    return -1;
}
