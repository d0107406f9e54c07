/*
 * core.c - parsing a core file's headers and notes (see core.h).
 *
 * Raw ELF structures read with memcpy at checked offsets (the core may be
 * hostile or cut short); no libelf here, so that every bound is visible.
 * Must never read outside the buffer, trust a count before checking it
 * against the bytes that would hold it, or open anything.
 */
#include "core.h"

#include "../util/bsearch.h"
#include "../util/error.h"

#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/procfs.h>
#include <sys/user.h>

struct note {
    uint32_t type;
    const char *name;              /* not NUL-terminated; namesz bytes */
    uint32_t namesz;
    const unsigned char *desc;
    size_t descsz;
};

static int fail(const char *what, const char *why)
{
    ft_fail(FT_E_BADCORE, "%s is not a usable core file: %s", what, why);
    return -1;
}

static int within(size_t size, uint64_t off, uint64_t len)
{
    return off <= size && len <= size - off;
}

static uint64_t u64_at(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int check_header(const unsigned char *d, size_t size, const char *what, Elf64_Ehdr *eh)
{
    if (size < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0)
        return fail(what, "it is not an ELF file (a core file starts with \\x7fELF)");
    if (size < sizeof *eh)
        return fail(what, "it ends inside its ELF header (truncated)");
    memcpy(eh, d, sizeof *eh);
    if (eh->e_type != ET_CORE)
        return fail(what, "it is an ELF file but not a core dump (e_type is not ET_CORE)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_machine != EM_X86_64)
        return fail(what, "it is not an x86-64 core (frametap reads x86-64 processes)");
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return fail(what, "its program header size is not that of ELF64");
    return 0;
}

/* e_phnum, or the real count from section 0 when it overflows (PN_XNUM). */
static int phdr_count(const unsigned char *d, size_t size, const Elf64_Ehdr *eh, uint64_t *n)
{
    *n = eh->e_phnum;
    if (eh->e_phnum != PN_XNUM)
        return 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || !within(size, eh->e_shoff, sizeof(Elf64_Shdr)))
        return -1;
    Elf64_Shdr sh;
    memcpy(&sh, d + eh->e_shoff, sizeof sh);
    *n = sh.sh_info;
    return 0;
}

static void parse_prstatus(struct ft_core_info *c, const struct note *nt)
{
    if (nt->descsz < sizeof(struct elf_prstatus) || c->nthreads >= FT_CORE_MAX_THREADS)
        return;
    struct ft_core_thread *t = &c->threads[c->nthreads];
    int32_t pid;
    int16_t cursig;
    memcpy(&pid, nt->desc + offsetof(struct elf_prstatus, pr_pid), sizeof pid);
    memcpy(&cursig, nt->desc + offsetof(struct elf_prstatus, pr_cursig), sizeof cursig);
    t->tid = pid;
    t->signal = cursig;
    const unsigned char *regs = nt->desc + offsetof(struct elf_prstatus, pr_reg);
    t->pc = u64_at(regs + offsetof(struct user_regs_struct, rip));
    t->sp = u64_at(regs + offsetof(struct user_regs_struct, rsp));
    c->nthreads++;
}

static void copy_cstr(char *dst, size_t cap, const unsigned char *src, size_t n)
{
    size_t k = 0;
    while (k < n && k + 1 < cap && src[k])
        k++;
    memcpy(dst, src, k);
    dst[k] = '\0';
}

static void parse_prpsinfo(struct ft_core_info *c, const struct note *nt)
{
    if (nt->descsz < sizeof(struct elf_prpsinfo))
        return;
    int32_t pid;
    memcpy(&pid, nt->desc + offsetof(struct elf_prpsinfo, pr_pid), sizeof pid);
    c->pid = pid;
    copy_cstr(c->fname, sizeof c->fname, nt->desc + offsetof(struct elf_prpsinfo, pr_fname),
              sizeof ((struct elf_prpsinfo *)0)->pr_fname);
    copy_cstr(c->psargs, sizeof c->psargs, nt->desc + offsetof(struct elf_prpsinfo, pr_psargs),
              sizeof ((struct elf_prpsinfo *)0)->pr_psargs);
}

static void parse_siginfo(struct ft_core_info *c, const struct note *nt)
{
    if (nt->descsz < 24)
        return;
    int32_t signo;
    memcpy(&signo, nt->desc, sizeof signo);
    c->signal = signo;
    if (signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE) {
        c->fault_addr = u64_at(nt->desc + 16); /* si_addr, after signo, errno, code, pad */
        c->have_fault_addr = 1;
    }
}

static void parse_auxv(struct ft_core_info *c, const struct note *nt)
{
    for (size_t i = 0; i + 16 <= nt->descsz; i += 16) {
        uint64_t type = u64_at(nt->desc + i), val = u64_at(nt->desc + i + 8);
        if (type == AT_PHDR)
            c->at_phdr = val;
        else if (type == AT_EXECFN)
            c->at_execfn = val;
        else if (type == AT_NULL)
            break;
    }
}

static int by_start(const void *a, const void *b)
{
    const struct ft_core_file *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* NT_FILE: count, page size, count x {start, end, page offset}, then
 * count NUL-terminated names. */
static int parse_files(struct ft_core_info *c, const struct note *nt, const char *what)
{
    if (c->files)
        return 0; /* one NT_FILE per core; a second is ignored */
    if (nt->descsz < 16)
        return fail(what, "its NT_FILE note is too short");
    uint64_t count = u64_at(nt->desc), page = u64_at(nt->desc + 8);
    if (count > FT_CORE_MAX_SEGMENTS || count > (nt->descsz - 16) / 24 || page == 0 ||
        page > (1u << 30))
        return fail(what, "its NT_FILE note has an impossible entry count or page size");
    const unsigned char *names = nt->desc + 16 + count * 24;
    size_t names_len = nt->descsz - 16 - count * 24;
    c->files = calloc(count ? count : 1, sizeof *c->files);
    c->strings = malloc(names_len + 1);
    if (!c->files || !c->strings) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    memcpy(c->strings, names, names_len);
    c->strings[names_len] = '\0';
    size_t at = 0;
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *e = nt->desc + 16 + i * 24;
        struct ft_core_file *f = &c->files[c->nfiles];
        f->start = u64_at(e);
        f->end = u64_at(e + 8);
        uint64_t pgoff = u64_at(e + 16);
        if (at >= names_len)
            return fail(what, "its NT_FILE note has fewer names than entries");
        char *name = c->strings + at;
        size_t len = strnlen(name, names_len - at);
        at += len + 1;
        if (f->end <= f->start || pgoff > UINT64_MAX / page)
            continue; /* an impossible entry names no memory */
        f->file_offset = pgoff * page;
        static const char del[] = " (deleted)";
        if (len >= sizeof del - 1 && strcmp(name + len - (sizeof del - 1), del) == 0) {
            name[len - (sizeof del - 1)] = '\0';
            f->deleted = 1;
        }
        f->path = name;
        c->nfiles++;
    }
    qsort(c->files, c->nfiles, sizeof *c->files, by_start);
    return 0;
}

static int parse_note_segment(struct ft_core_info *c, const unsigned char *p, size_t len,
                              const char *what)
{
    size_t at = 0;
    while (len - at >= 12) {
        uint32_t namesz, descsz;
        struct note nt;
        memcpy(&namesz, p + at, 4);
        memcpy(&descsz, p + at + 4, 4);
        memcpy(&nt.type, p + at + 8, 4);
        at += 12;
        size_t name_pad = ((size_t)namesz + 3) & ~(size_t)3;
        size_t desc_pad = ((size_t)descsz + 3) & ~(size_t)3;
        if (name_pad > len - at || desc_pad > len - at - name_pad)
            return fail(what, "a note runs past the end of its segment");
        nt.name = (const char *)p + at;
        nt.namesz = namesz;
        nt.desc = p + at + name_pad;
        nt.descsz = descsz;
        at += name_pad + desc_pad;
        if (namesz >= 3 && memcmp(nt.name, "GDB", 3) == 0)
            c->by_gdb = 1;
        int core = namesz >= 4 && memcmp(nt.name, "CORE", 4) == 0;
        int linux_ = namesz >= 5 && memcmp(nt.name, "LINUX", 5) == 0;
        if (!core && !linux_)
            continue;
        switch (nt.type) {
        case NT_PRSTATUS: parse_prstatus(c, &nt); break;
        case NT_PRPSINFO: parse_prpsinfo(c, &nt); break;
        case NT_SIGINFO: parse_siginfo(c, &nt); break;
        case NT_AUXV: parse_auxv(c, &nt); break;
        case NT_FILE:
            if (parse_files(c, &nt, what) < 0)
                return -1;
            break;
        default: break;
        }
    }
    return 0;
}

const unsigned char *ft_core_bytes(const struct ft_core_info *c, uint64_t addr, size_t len)
{
    for (size_t i = 0; i < c->nloads; i++) {
        const struct ft_core_load *l = &c->loads[i];
        if (addr >= l->vaddr && addr - l->vaddr <= l->filesz && len <= l->filesz - (addr - l->vaddr))
            return c->data + l->offset + (addr - l->vaddr);
    }
    return NULL;
}

const unsigned char *ft_core_prefix(const struct ft_core_info *c, uint64_t addr, size_t max,
                                    size_t *len)
{
    for (size_t i = 0; i < c->nloads; i++) {
        const struct ft_core_load *l = &c->loads[i];
        if (addr >= l->vaddr && addr - l->vaddr < l->filesz) {
            size_t have = (size_t)(l->filesz - (addr - l->vaddr));
            *len = have < max ? have : max;
            return *len >= 64 ? c->data + l->offset + (addr - l->vaddr) : NULL;
        }
    }
    return NULL;
}

const struct ft_core_file *ft_core_file_at(const struct ft_core_info *c, uint64_t addr)
{
    size_t lo = ft_upper_bound(c->files, c->nfiles, sizeof *c->files,
                               offsetof(struct ft_core_file, start), addr);
    /* files may overlap in a hostile core: look back a little */
    for (size_t k = lo; k > 0 && lo - k < 8; k--)
        if (addr >= c->files[k - 1].start && addr < c->files[k - 1].end)
            return &c->files[k - 1];
    return NULL;
}

/* The GNU build-id note inside an ELF image of len bytes (its first
 * mapped bytes, as the core holds them). */
static size_t build_id_in(const unsigned char *img, size_t len, unsigned char *out)
{
    Elf64_Ehdr eh;
    if (len < sizeof eh || memcmp(img, ELFMAG, SELFMAG) != 0)
        return 0;
    memcpy(&eh, img, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !within(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
        return 0;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_NOTE || !within(len, ph.p_offset, ph.p_filesz))
            continue;
        const unsigned char *p = img + ph.p_offset;
        for (size_t at = 0; ph.p_filesz - at >= 12;) {
            uint32_t namesz, descsz, type;
            memcpy(&namesz, p + at, 4);
            memcpy(&descsz, p + at + 4, 4);
            memcpy(&type, p + at + 8, 4);
            at += 12;
            size_t np = ((size_t)namesz + 3) & ~(size_t)3, dp = ((size_t)descsz + 3) & ~(size_t)3;
            if (np > ph.p_filesz - at || dp > ph.p_filesz - at - np)
                break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + at, "GNU", 4) == 0 &&
                descsz > 0 && descsz <= FT_CORE_BUILD_ID_MAX) {
                memcpy(out, p + at + np, descsz);
                return descsz;
            }
            at += np + dp;
        }
    }
    return 0;
}

static void file_build_ids(struct ft_core_info *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        struct ft_core_file *f = &c->files[i];
        if (f->file_offset != 0)
            continue;
        /* The kernel dumps an ELF mapping's first page; gcore the whole
         * mapping. Take as much of the mapping as the core holds in one
         * piece, up to 64 KiB. */
        size_t want = f->end - f->start < 65536 ? (size_t)(f->end - f->start) : 65536, len;
        const unsigned char *img = ft_core_prefix(c, f->start, want, &len);
        if (img)
            f->build_id_len = build_id_in(img, len, f->build_id);
    }
}

int ft_core_parse(const unsigned char *data, size_t size, const char *what,
                  struct ft_core_info *out)
{
    memset(out, 0, sizeof *out);
    out->data = data;
    out->size = size;
    Elf64_Ehdr eh;
    uint64_t n;
    if (check_header(data, size, what, &eh) < 0)
        return -1;
    if (phdr_count(data, size, &eh, &n) < 0 || n > FT_CORE_MAX_SEGMENTS ||
        !within(size, eh.e_phoff, n * sizeof(Elf64_Phdr)))
        return fail(what, "its program headers run past its end (truncated)");
    out->loads = calloc(n ? n : 1, sizeof *out->loads);
    out->threads = calloc(64, sizeof *out->threads);
    if (!out->loads || !out->threads) {
        ft_core_info_free(out);
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    size_t thread_cap = 64;
    int notes = 0;
    for (uint64_t i = 0; i < n; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, data + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_NOTE) {
            if (!within(size, ph.p_offset, ph.p_filesz)) {
                ft_core_info_free(out);
                return fail(what, "it is truncated: its notes lie past its end (the dump was cut "
                            "short: disk full, ulimit -c or the core size limit)");
            }
            /* room for every NT_PRSTATUS this segment could hold */
            size_t most = ph.p_filesz / (12 + sizeof(struct elf_prstatus)) + 1;
            if (most > FT_CORE_MAX_THREADS)
                most = FT_CORE_MAX_THREADS;
            if (out->nthreads + most > thread_cap) {
                size_t cap = out->nthreads + most;
                struct ft_core_thread *t = realloc(out->threads, cap * sizeof *t);
                if (!t) {
                    ft_core_info_free(out);
                    ft_fail(FT_E_SYSTEM, "out of memory");
                    return -1;
                }
                out->threads = t;
                thread_cap = cap;
            }
            if (parse_note_segment(out, data + ph.p_offset, ph.p_filesz, what) < 0) {
                ft_core_info_free(out);
                return -1;
            }
            notes = 1;
        } else if (ph.p_type == PT_LOAD) {
            if (ph.p_filesz && !within(size, ph.p_offset, ph.p_filesz)) {
                ft_core_info_free(out);
                ft_fail(FT_E_BADCORE, "%s is truncated: its memory segments need %llu bytes but "
                        "the file has %zu (the dump was cut short: disk full, ulimit -c or the "
                        "core size limit); frametap does not read partial cores", what,
                        (unsigned long long)(ph.p_offset + ph.p_filesz), size);
                return -1;
            }
            if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr || ph.p_filesz > ph.p_memsz)
                continue;
            out->loads[out->nloads++] = (struct ft_core_load){
                ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags};
        }
    }
    if (!notes || out->nthreads == 0) {
        ft_core_info_free(out);
        return fail(what, "it has no thread notes (NT_PRSTATUS)");
    }
    if (!out->pid)
        out->pid = out->threads[0].tid;
    if (!out->signal)
        out->signal = out->threads[0].signal;
    file_build_ids(out);
    return 0;
}

void ft_core_info_free(struct ft_core_info *c)
{
    free(c->loads);
    free(c->files);
    free(c->threads);
    free(c->strings);
    c->loads = NULL;
    c->files = NULL;
    c->threads = NULL;
    c->strings = NULL;
    c->nloads = c->nfiles = c->nthreads = 0;
}

void ft_core_hex(const unsigned char *id, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < len && k + 2 < size; i++) {
        out[k++] = hex[id[i] >> 4];
        out[k++] = hex[id[i] & 15];
    }
    if (size)
        out[k < size ? k : size - 1] = '\0';
}
