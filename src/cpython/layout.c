/*
 * layout.c - chooses and completes a layout (see layout.h).
 *
 * Rules: final releases match by minor (CPython freezes the ABI within a
 * release line); pre-releases are refused unless a row was generated from
 * that exact version, because their structs still move. Nothing is guessed:
 * an unknown version is an error that says so.
 */
#include "layout.h"

#include "../util/error.h"
#include "layouts_generated.h"

#include <stdio.h>
#include <string.h>

#define NROWS (sizeof ft_generated_layouts / sizeof ft_generated_layouts[0])
#define DEBUG_COOKIE "xdebugpy"
#define MAX_DEBUG_OFFSETS_SIZE 4096

#define HOST_PTR_SIZE ((int)sizeof(void *))

void ft_layout_supported_abi(int ptr_size, int *oldest, int *newest)
{
    *oldest = 0;
    *newest = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const struct ft_layout_row *r = &ft_generated_layouts[i];
        if (r->ptr_size != ptr_size)
            continue;
        if (!*oldest || r->minor < *oldest)
            *oldest = r->minor;
        if (r->minor > *newest)
            *newest = r->minor;
    }
}

void ft_layout_supported(int *oldest, int *newest)
{
    ft_layout_supported_abi(HOST_PTR_SIZE, oldest, newest);
}

static int release_level(uint64_t hex) { return (int)((hex >> 4) & 0xF); }

void ft_version_string(const struct ft_layout *l, char *buf, size_t size)
{
    uint64_t h = l->hexversion;
    if (!h) {
        snprintf(buf, size, "%d.%d", l->major, l->minor);
        return;
    }
    static const char *levels[16] = {[0xA] = "a", [0xB] = "b", [0xC] = "rc"};
    int level = release_level(h);
    if (level == 0xF)
        snprintf(buf, size, "%d.%d.%d", (int)(h >> 24) & 0xFF, (int)(h >> 16) & 0xFF,
                 (int)(h >> 8) & 0xFF);
    else
        snprintf(buf, size, "%d.%d.%d%s%d", (int)(h >> 24) & 0xFF, (int)(h >> 16) & 0xFF,
                 (int)(h >> 8) & 0xFF, levels[level] ? levels[level] : "?", (int)(h & 0xF));
}

static enum ft_linetable_format format_for_minor(int minor)
{
    return minor <= 9 ? FT_LNOTAB : minor == 10 ? FT_LINETABLE : FT_LOCATIONS;
}

/* The row generated for major.minor in the given build flavour (default
 * or free-threaded: the rows say which their headers were). */
static const struct ft_layout_row *row_for(int major, int minor, int free_threaded, int ptr_size)
{
    for (size_t i = 0; i < NROWS; i++)
        if (ft_generated_layouts[i].major == major && ft_generated_layouts[i].minor == minor &&
            ft_generated_layouts[i].free_threaded == free_threaded &&
            ft_generated_layouts[i].ptr_size == ptr_size)
            return &ft_generated_layouts[i];
    return NULL;
}

int ft_layout_for_version(int major, int minor, uint64_t hexversion, struct ft_layout *out)
{
    return ft_layout_for_abi(major, minor, hexversion, HOST_PTR_SIZE, out);
}

int ft_layout_for_abi(int major, int minor, uint64_t hexversion, int ptr_size,
                      struct ft_layout *out)
{
    int oldest, newest;
    ft_layout_supported_abi(ptr_size, &oldest, &newest);
    const struct ft_layout_row *row = row_for(major, minor, 0, ptr_size);
    memset(out, 0, sizeof *out);
    out->major = major;
    out->minor = minor;
    out->ptr_size = ptr_size;
    out->hexversion = hexversion;
    char v[32];
    ft_version_string(out, v, sizeof v);
    if (!row) {
        const char *why = (major < 3 || (major == 3 && minor < oldest)) ? "too old" : "newer than this frametap";
        ft_fail(FT_E_VERSION,
                "CPython %s is %s: frametap reads CPython 3.%d to 3.%d and guessed nothing; "
                "run the target on a supported Python%s",
                v, why, oldest, newest,
                strcmp(why, "too old") ? " or regenerate layouts (tools/gen_layouts.sh)" : "");
        return -1;
    }
    if (hexversion && release_level(hexversion) != 0xF) {
        ft_fail(FT_E_VERSION,
                "CPython %s is a pre-release: its structures may differ from the final 3.%d "
                "release frametap was generated from (%s), so nothing was guessed; use a final "
                "release", v, minor, row->generated_from);
        return -1;
    }
    out->generated_from = row->generated_from;
    out->linetable = format_for_minor(minor);
    out->off = row->off;
    out->c = row->consts;
    return 0;
}

static uint64_t u64_at(const unsigned char *blob, uint64_t at)
{
    uint64_t v;
    memcpy(&v, blob + at, sizeof v);
    return v;
}

/* Copies each published value over the header value; any descriptor position
 * outside the blob means the descriptor does not fit this target. */
static int apply_published(const struct ft_layout_row *row, const unsigned char *blob,
                           struct ft_layout *out)
{
#define FT_APPLY(f)                                                           \
    if (row->dbg.f != FT_ABSENT) {                                            \
        if (row->dbg.f + 8 > row->debug_offsets_size)                         \
            return -1;                                                        \
        out->off.f = u64_at(blob, row->dbg.f);                                \
    }
    FT_OFFSET_FIELDS(FT_APPLY)
#undef FT_APPLY
    return 0;
}

/* Published offsets must be plausible: struct offsets below 64 KiB. (Only
 * what the target published: a generated offset such as that of the
 * _main_interpreter inside _PyRuntime may be larger.) */
static int plausible(const struct ft_layout_row *row, const struct ft_offsets *o)
{
#define FT_CHECK(f)                                                           \
    if (row->dbg.f != FT_ABSENT && o->f > 65536)                              \
        return 0;
    FT_OFFSET_FIELDS(FT_CHECK)
#undef FT_CHECK
    return 1;
}

int ft_layout_from_debug_offsets(struct ft_proc *p, uint64_t runtime_addr, struct ft_layout *out)
{
    return ft_layout_from_debug_offsets_abi(p, runtime_addr, HOST_PTR_SIZE, out);
}

int ft_layout_from_debug_offsets_abi(struct ft_proc *p, uint64_t runtime_addr, int ptr_size,
                                     struct ft_layout *out)
{
    unsigned char head[24];
    if (ft_proc_read(p, runtime_addr, head, sizeof head) < 0)
        return -1;
    if (memcmp(head, DEBUG_COOKIE, 8) != 0) {
        ft_fail(FT_E_CORRUPT, "_PyRuntime at 0x%llx has no _Py_DebugOffsets cookie: the "
                "binary is not the CPython it claims to be", (unsigned long long)runtime_addr);
        return -1;
    }
    uint64_t hex = u64_at(head, 8);
    int major = (int)(hex >> 24) & 0xFF, minor = (int)(hex >> 16) & 0xFF;
    if (ft_layout_for_abi(major, minor, hex, ptr_size, out) < 0)
        return -1;
    const struct ft_layout_row *row = row_for(major, minor, 0, ptr_size);
    if (!row->debug_offsets_size || row->debug_offsets_size > MAX_DEBUG_OFFSETS_SIZE) {
        ft_fail(FT_E_VERSION, "CPython %d.%d publishes _Py_DebugOffsets but frametap's layout "
                "for it has no descriptor; regenerate layouts (tools/gen_layouts.sh)", major, minor);
        return -1;
    }
    unsigned char blob[MAX_DEBUG_OFFSETS_SIZE];
    if (ft_proc_read(p, runtime_addr, blob, row->debug_offsets_size) < 0)
        return -1;
    /* The flavour comes from the target (free_threaded sits where it does
     * in both flavours' _Py_DebugOffsets); every offset and constant that
     * differs between flavours then comes from that flavour's row. */
    if (u64_at(blob, row->dbg_free_threaded) != 0) {
        row = row_for(major, minor, 1, ptr_size);
        if (!row) {
            ft_fail(FT_E_VERSION, "this CPython %d.%d is a free-threaded build (python%d.%dt): "
                    "frametap reads only default (GIL) builds so far", major, minor, major, minor);
            return -1;
        }
        out->off = row->off;
        out->c = row->consts;
        out->generated_from = row->generated_from;
    }
    if (apply_published(row, blob, out) < 0 || !plausible(row, &out->off)) {
        ft_fail(FT_E_CORRUPT, "_Py_DebugOffsets of CPython %d.%d holds implausible offsets; "
                "refusing to use them", major, minor);
        return -1;
    }
    out->from_debug_offsets = 1;
    return 0;
}

int ft_layout_frames_are_objects(const struct ft_layout *l)
{
    return l->off.pyframe_back != FT_ABSENT;
}
