/*
 * test_layout.c - choosing a layout from a target's _Py_DebugOffsets
 * (layout.c): the build flavour comes from the target's free_threaded
 * field and picks the row generated for that flavour; with no such row
 * (no free-threaded rows are generated yet) the target is refused with a
 * message that says why, never read with the default build's offsets.
 */
#include "cpython/layout.h"
#include "util/error.h"
#include "check.h"
#include "cpython/layouts_generated.h"

#include <stdlib.h>
#include <string.h>

#define RUNTIME 0x400000ull

static const struct ft_layout_row *ft_test_row(int major, int minor)
{
    for (size_t i = 0; i < sizeof ft_generated_layouts / sizeof ft_generated_layouts[0]; i++)
        if (ft_generated_layouts[i].major == major && ft_generated_layouts[i].minor == minor &&
            !ft_generated_layouts[i].free_threaded && ft_generated_layouts[i].ptr_size == 8)
            return &ft_generated_layouts[i];
    abort();
}

static int open_blob(int minor, int free_threaded, struct ft_layout *out)
{
    static unsigned char blob[4096];
    struct ft_layout l;
    if (ft_layout_for_version(3, minor, 0, &l) < 0)
        return -2;
    const struct ft_layout_row *row = ft_test_row(3, minor);
    memset(blob, 0, sizeof blob);
    memcpy(blob, "xdebugpy", 8);
    uint64_t hex = (3ull << 24) | ((uint64_t)minor << 16) | (0xFull << 4);
    memcpy(blob + row->dbg_version, &hex, 8);
    uint64_t ft = (uint64_t)free_threaded;
    memcpy(blob + row->dbg_free_threaded, &ft, 8);
    struct ft_image_segment seg = {RUNTIME, blob, sizeof blob};
    struct ft_image image = {&seg, 1};
    struct ft_proc p;
    ft_proc_open_image(&p, &image);
    ft_error_clear();
    int rc = ft_layout_from_debug_offsets(&p, RUNTIME, out);
    ft_proc_close(&p);
    return rc;
}

int main(void)
{
    int oldest, newest;
    struct ft_layout l;
    ft_layout_supported(&oldest, &newest);
    for (int minor = 13; minor <= newest; minor++) {
        CHECK(open_blob(minor, 0, &l) == 0 && l.from_debug_offsets && l.minor == minor);
        CHECK(open_blob(minor, 1, &l) == -1 && ft_error_kind() == FT_E_VERSION &&
              strstr(ft_error_message(), "free-threaded") != NULL);
    }
    return check_report("layout");
}
