/*
 * unwind.c - libdwfl sessions and unwinding (see unwind.h).
 *
 * Live: the maps report of dwfl_linux_proc_report (from a filtered copy
 * of /proc/PID/maps, see module_maps) + dwfl_linux_proc_attach(pid, true): the
 * threads are already ptrace-stopped by frametap, so libdwfl never
 * attaches or detaches itself. Cores: dwfl_core_file_report +
 * dwfl_core_file_attach; every thread is unwound once (dwfl_getthreads:
 * dwfl_getthread_frames leaks on cores) and kept. Module files are found
 * through the target's root (/proc/PID/root: containers) or, for a core,
 * through the core's resolver (search root, build-id checked). Must
 * never stop, resume or write to a target, nor loop on a bad stack.
 */
#include "unwind.h"

#include "../target/corefile.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "../util/grow.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct core_thread_stack {
    pid_t tid;
    struct ft_native_stack st;
    int failed;
    char error[160];
};

struct ft_unwinder {
    Dwfl *dwfl;
    Dwfl_Callbacks cb;
    char *debuginfo_path;
    pid_t pid;                       /* live target; 0 for a core */
    const struct ft_core *core;
    Elf *core_elf;
    int core_fd;
    unsigned reports;
    struct core_thread_stack *cores; /* a core's threads, unwound at open */
    size_t ncores;
};

/* A core module's path: the NT_FILE entry at the module's start. */
static const char *core_module_path(const struct ft_core *core, Dwfl_Module *mod)
{
    Dwarf_Addr start = 0;
    dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    const struct ft_core_file *f = ft_core_file_at(&core->info, start);
    return f ? f->path : NULL;
}

const char *ft_unwinder_module_path(struct ft_unwinder *u, void *module)
{
    Dwfl_Module *mod = module;
    const char *path = u->core ? core_module_path(u->core, mod) : NULL;
    return path ? path : dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* find_elf: the module's file through the target's own root first (a
 * container's files), else libdwfl's own lookup; for a core, the file
 * its resolver chose (or none: never a file whose build-id differs). */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
    struct ft_unwinder *u = *userdata;
    if (u && u->core) {
        const char *mapped = core_module_path(u->core, mod);
        const char *local = mapped ? ft_core_local_path(u->core, mapped) : NULL;
        int fd = local ? open(local, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            *file_name = strdup(local);
            return fd;
        }
        return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
    }
    if (u && modname && modname[0] == '/') {
        char path[4096 + 64];
        snprintf(path, sizeof path, "/proc/%d/root%s", (int)u->pid, modname);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            *file_name = strdup(path);
            return fd;
        }
    }
    return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
}

static int set_userdata(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                        void *arg)
{
    (void)mod, (void)name, (void)start;
    *userdata = arg;
    return DWARF_CB_OK;
}

static struct ft_unwinder *new_unwinder(void)
{
    struct ft_unwinder *u = calloc(1, sizeof *u);
    if (!u) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return NULL;
    }
    u->core_fd = -1;
    u->cb.find_elf = find_elf;
    u->cb.find_debuginfo = dwfl_standard_find_debuginfo;
    u->cb.section_address = dwfl_offline_section_address;
    u->cb.debuginfo_path = &u->debuginfo_path;
    u->dwfl = dwfl_begin(&u->cb);
    if (!u->dwfl) {
        ft_fail(FT_E_SYSTEM, "libdwfl: %s", dwfl_errmsg(-1));
        free(u);
        return NULL;
    }
    return u;
}

struct maps_line {
    uint64_t start, end, offset;
    const char *path;          /* points into the text; NULL: not a file */
    size_t len;                /* of the whole line, newline included */
    const char *text;
};

static int parse_maps_line(const char *text, size_t len, struct maps_line *m)
{
    char buf[512];
    unsigned long long start, end, off;
    int at = 0;
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (sscanf(buf, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &off, &at) < 3 || at <= 0)
        return -1;
    m->start = start;
    m->end = end;
    m->offset = off;
    m->text = text;
    m->len = len;
    m->path = text[at] == '/' || text[at] == '[' ? text + at : NULL;
    return 0;
}

static int same_path(const char *a, const char *b)
{
    size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
    return la == lb && memcmp(a, b, la) == 0;
}

/* /proc/PID/maps without the mappings of a file that come before the
 * mapping of its start (offset 0): libffi maps a page of its own file
 * again, elsewhere, for its closure trampolines, and libdwfl would take
 * that page's address for the library's base and misplace all its code
 * (and so its unwind tables). Also finds the vdso. */
static char *module_maps(pid_t pid, uint64_t *vdso_start, uint64_t *vdso_end)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    char *text = ft_read_small_file(path, 64u << 20);
    if (!text)
        return NULL;
    size_t n = 0, cap = 0;
    struct maps_line *v = NULL;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        struct maps_line m;
        if (parse_maps_line(line, len, &m) == 0) {
            FT_GROW(v, cap, n + 1);
            v[n++] = m;
        }
        line += len;
    }
    char *out = malloc(strlen(text) + 1);
    size_t k = 0;
    *vdso_start = *vdso_end = 0;
    for (size_t i = 0; out && i < n; i++) {
        if (v[i].path && strncmp(v[i].path, "[vdso]", 6) == 0) {
            *vdso_start = v[i].start;
            *vdso_end = v[i].end;
        }
        int alias = 0;
        if (v[i].path && v[i].path[0] == '/' && v[i].offset != 0)
            for (size_t j = i + 1; j < n && !alias; j++)
                alias = v[j].path && v[j].offset == 0 && same_path(v[j].path, v[i].path);
        if (alias) {
            /* a later mapping starts the file: this one is an alias */
            int started = 0;
            for (size_t j = 0; j < i && !started; j++)
                started = v[j].path && v[j].offset == 0 && same_path(v[j].path, v[i].path);
            if (!started)
                continue;
        }
        memcpy(out + k, v[i].text, v[i].len);
        k += v[i].len;
    }
    if (out)
        out[k] = '\0';
    free(v);
    free(text);
    return out;
}

/* The live target's modules: its file mappings (module_maps) and vdso. */
static int report_live(struct ft_unwinder *u)
{
    uint64_t vdso_start, vdso_end;
    char *maps = module_maps(u->pid, &vdso_start, &vdso_end);
    if (!maps) {
        ft_fail(FT_E_EXITED, "cannot read the memory maps of process %d for native unwinding",
                (int)u->pid);
        return -1;
    }
    FILE *f = fmemopen(maps, strlen(maps), "r");
    dwfl_report_begin(u->dwfl);
    int rc = f ? dwfl_linux_proc_maps_report(u->dwfl, f) : errno;
    if (f)
        fclose(f);
    free(maps);
    if (rc == 0 && vdso_start) {
        char name[64];
        snprintf(name, sizeof name, "[vdso: %d]", (int)u->pid);
        dwfl_report_module(u->dwfl, name, vdso_start, vdso_end);
    }
    if (dwfl_report_end(u->dwfl, NULL, NULL) != 0 || rc != 0) {
        ft_fail(FT_E_SYSTEM, "cannot list the modules of process %d for native unwinding: %s",
                (int)u->pid, rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        return -1;
    }
    dwfl_getmodules(u->dwfl, set_userdata, u, 0);
    u->reports++;
    return 0;
}

struct ft_unwinder *ft_unwinder_open_pid(pid_t pid)
{
    struct ft_unwinder *u = new_unwinder();
    if (!u)
        return NULL;
    u->pid = pid;
    if (report_live(u) < 0) {
        ft_unwinder_close(u);
        return NULL;
    }
    int rc = dwfl_linux_proc_attach(u->dwfl, pid, true);
    if (rc != 0) {
        ft_fail(rc == ESRCH ? FT_E_EXITED : FT_E_SYSTEM,
                "native unwinding cannot attach to process %d: %s", (int)pid,
                rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
        ft_unwinder_close(u);
        return NULL;
    }
    return u;
}

int ft_unwinder_refresh(struct ft_unwinder *u)
{
    if (u->core)
        return 0;
    return report_live(u);
}

unsigned ft_unwinder_reports(const struct ft_unwinder *u)
{
    return u->reports;
}

void *ft_unwinder_dwfl(struct ft_unwinder *u)
{
    return u->dwfl;
}

/* Frame callback state. */
struct walk {
    struct ft_native_stack *out;
    int want_regs;
    int stopped;               /* on_frame ended the walk itself */
};

static int push_frame(struct ft_native_stack *s, const struct ft_native_frame *f)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct ft_native_frame *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *f;
    return 0;
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
    struct walk *w = arg;
    struct ft_native_stack *s = w->out;
    struct ft_native_frame f;
    bool activation = false;
    Dwarf_Addr pc;
    memset(&f, 0, sizeof f);
    if (!dwfl_frame_pc(state, &pc, &activation))
        return DWARF_CB_ABORT;
    if (pc == 0) {
        w->stopped = 1; /* the outermost frame has no caller */
        return DWARF_CB_ABORT;
    }
    /* a return address outside user space: the unwind went astray */
    if (pc > 0x00ffffffffffffffull) {
        snprintf(s->end, sizeof s->end, "a return address (0x%llx) outside user space",
                 (unsigned long long)pc);
        w->stopped = 1;
        return DWARF_CB_ABORT;
    }
    f.pc = pc;
    f.activation = activation;
    Dwarf_Word v;
    if (dwfl_frame_reg(state, FT_NATIVE_REG_SP, &v) == 0) {
        f.sp = v;
        f.regmask |= 1u << FT_NATIVE_REG_SP;
        f.regs[FT_NATIVE_REG_SP] = v;
    }
    if (w->want_regs)
        for (unsigned r = 0; r < FT_NATIVE_NREGS; r++)
            if (r != FT_NATIVE_REG_SP && dwfl_frame_reg(state, r, &v) == 0) {
                f.regs[r] = v;
                f.regmask |= 1u << r;
            }
    /* A frame that repeats the one before (same pc and sp) would repeat
     * forever (sourceware bug 30272): the stack ends there. */
    if (s->n && s->v[s->n - 1].pc == f.pc && s->v[s->n - 1].sp == f.sp) {
        s->truncated = 1;
        snprintf(s->end, sizeof s->end, "a frame repeated itself at 0x%llx",
                 (unsigned long long)f.pc);
        w->stopped = 1;
        return DWARF_CB_ABORT;
    }
    if (s->n >= FT_NATIVE_MAX) {
        s->truncated = 1;
        snprintf(s->end, sizeof s->end, "more than %d native frames", FT_NATIVE_MAX);
        w->stopped = 1;
        return DWARF_CB_ABORT;
    }
    if (push_frame(s, &f) < 0) {
        snprintf(s->end, sizeof s->end, "out of memory");
        w->stopped = 1;
        return DWARF_CB_ABORT;
    }
    return DWARF_CB_OK;
}

static void reset(struct ft_native_stack *s)
{
    s->n = 0;
    s->truncated = 0;
    s->end[0] = '\0';
}

/* After an unwind that returned rc: the end reason, unless it was the
 * normal end of the stack (libdwfl reports a stack that ends at a frame
 * without a caller as an error too, once frames were found). */
static void note_end(struct ft_native_stack *s, int rc)
{
    if (rc == 0 || s->end[0])
        return;
    const char *msg = dwfl_errmsg(-1);
    if (s->n && msg && (strstr(msg, "no matching address range") || strstr(msg, "No DWARF information")))
        snprintf(s->end, sizeof s->end, "no unwind information for 0x%llx (%s)",
                 (unsigned long long)s->v[s->n - 1].pc, msg);
    else if (msg && s->n)
        snprintf(s->end, sizeof s->end, "%s", msg);
}

static int core_thread(Dwfl_Thread *thread, void *arg)
{
    struct ft_unwinder *u = arg;
    if (u->ncores >= u->core->info.nthreads) /* never more than it has thread notes */
        return DWARF_CB_ABORT;
    struct core_thread_stack *c = &u->cores[u->ncores++];
    memset(c, 0, sizeof *c);
    c->tid = dwfl_thread_tid(thread);
    struct walk w = {&c->st, 1, 0};
    int rc = dwfl_thread_getframes(thread, on_frame, &w);
    if (rc != 0 && c->st.n == 0) {
        c->failed = 1;
        snprintf(c->error, sizeof c->error, "%s", dwfl_errmsg(-1));
    }
    if (!w.stopped)
        note_end(&c->st, rc);
    return DWARF_CB_OK;
}

struct ft_unwinder *ft_unwinder_open_core(const struct ft_core *core)
{
    struct ft_unwinder *u = new_unwinder();
    if (!u)
        return NULL;
    u->core = core;
    elf_version(EV_CURRENT);
    u->core_fd = open(core->path, O_RDONLY | O_CLOEXEC);
    u->core_elf = u->core_fd >= 0 ? elf_begin(u->core_fd, ELF_C_READ_MMAP, NULL) : NULL;
    const char *exe = core->exe ? core->exe->local : NULL;
    int n = u->core_elf ? dwfl_core_file_report(u->dwfl, u->core_elf, exe) : -1;
    if (n < 0 || dwfl_report_end(u->dwfl, NULL, NULL) != 0) {
        ft_fail(FT_E_BADCORE, "elfutils cannot read %s for native frames: %s", core->path,
                dwfl_errmsg(-1));
        ft_unwinder_close(u);
        return NULL;
    }
    dwfl_getmodules(u->dwfl, set_userdata, u, 0);
    u->reports = 1;
    if (dwfl_core_file_attach(u->dwfl, u->core_elf) < 0) {
        ft_fail(FT_E_BADCORE, "elfutils cannot read the threads of %s: %s", core->path,
                dwfl_errmsg(-1));
        ft_unwinder_close(u);
        return NULL;
    }
    u->cores = calloc(core->info.nthreads ? core->info.nthreads : 1, sizeof *u->cores);
    if (!u->cores) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        ft_unwinder_close(u);
        return NULL;
    }
    dwfl_getthreads(u->dwfl, core_thread, u);
    return u;
}

int ft_unwind_thread(struct ft_unwinder *u, pid_t tid, int want_regs, struct ft_native_stack *out)
{
    reset(out);
    if (u->core) {
        for (size_t i = 0; i < u->ncores; i++) {
            struct core_thread_stack *c = &u->cores[i];
            if (c->tid != tid)
                continue;
            if (c->failed) {
                ft_fail(FT_E_CORRUPT, "native unwinding failed: %s", c->error);
                return -1;
            }
            for (size_t k = 0; k < c->st.n; k++)
                if (push_frame(out, &c->st.v[k]) < 0) {
                    ft_fail(FT_E_SYSTEM, "out of memory");
                    return -1;
                }
            out->truncated = c->st.truncated;
            snprintf(out->end, sizeof out->end, "%s", c->st.end);
            return 0;
        }
        ft_fail(FT_E_CORRUPT, "the core has no registers for thread %d", (int)tid);
        return -1;
    }
    struct walk w = {out, want_regs, 0};
    int rc = dwfl_getthread_frames(u->dwfl, tid, on_frame, &w);
    if (rc != 0 && out->n == 0) {
        ft_fail(FT_E_CORRUPT, "native unwinding of thread %d failed: %s", (int)tid,
                out->end[0] ? out->end : dwfl_errmsg(-1));
        return -1;
    }
    if (!w.stopped)
        note_end(out, rc);
    return 0;
}

void ft_native_stack_free(struct ft_native_stack *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

void ft_unwinder_close(struct ft_unwinder *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->ncores; i++)
        ft_native_stack_free(&u->cores[i].st);
    free(u->cores);
    if (u->dwfl)
        dwfl_end(u->dwfl);
    if (u->core_elf)
        elf_end(u->core_elf);
    if (u->core_fd >= 0)
        close(u->core_fd);
    free(u);
}
