/*
 * test_render.c - the value renderer (render.c), the number and string
 * repr helpers (numrepr.c, strrepr.c) and the locals reader (locals.c), on
 * memory images built with each supported version's generated layout
 * (tests/fuzz/pyimage.h): every type shown like repr(), cycles, each limit,
 * 3.14+ tagged references, every kind of frame slot; then hostile images
 * (counts, sizes and types that lie), which must render as unreadable
 * without crashing.
 *
 * `test_render --write-seeds DIR` also writes images as seeds for
 * tests/fuzz/fuzz_render.c.
 */
#include "cpython/locals.h"
#include "cpython/numrepr.h"
#include "cpython/render.h"
#include "cpython/strrepr.h"
#include "util/error.h"
#include "check.h"
#include "world.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SEED_MAX 4090 /* make fuzz runs with -max_len=4096, 6 bytes of header */


static const struct ft_render_limits LIMITS = {FT_RENDER_WIDTH, FT_RENDER_ITEMS, FT_RENDER_DEPTH, FT_RENDER_BYTES};

/* The text of the object at addr; *truncated set from the result. */
static const char *show(struct ft_reader *r, const struct ft_render_limits *lim, struct ft_ref ref,
                        struct ft_render_result *res)
{
    static char text[8192];
    struct strbuf sb;
    sb_init(&sb);
    ft_render(r, NULL, lim, ref, &sb, res);
    snprintf(text, sizeof text, "%.*s", (int)sb.len, sb.data ? sb.data : "");
    sb_free(&sb);
    return text;
}

static struct ft_ref obj(uint64_t addr) { return (struct ft_ref){FT_REF_OBJECT, addr, 0}; }

#define SHOWS(r, addr, want)                                                    \
    do {                                                                       \
        struct ft_render_result res_;                                          \
        const char *got_ = show(r, &LIMITS, obj(addr), &res_);                 \
        if (strcmp(got_, want))                                                \
            fprintf(stderr, "  got  %s\n  want %s\n", got_, want);             \
        CHECK(!strcmp(got_, want));                                            \
    } while (0)

/* ---- pure helpers ---- */

static void test_float_repr(void)
{
    static const struct { double v; const char *want; } cases[] = {
        {0.1, "0.1"}, {1e300, "1e+300"}, {-0.0, "-0.0"}, {0.0, "0.0"}, {1e16, "1e+16"},
        {1e15, "1000000000000000.0"}, {1e-5, "1e-05"}, {1e-4, "0.0001"}, {1.5, "1.5"},
        {2.0 / 3, "0.6666666666666666"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {123456789012345678.0, "1.2345678901234568e+17"}, {9007199254740993.0, "9007199254740992.0"},
        {0x1p-1022, "2.2250738585072014e-308"}, {0x1p+1023, "8.98846567431158e+307"}, {100.0, "100.0"},
        {-2.5e-10, "-2.5e-10"}, {1e22, "1e+22"}, {1e23, "1e+23"},
    };
    char out[FT_FLOAT_REPR_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ft_float_repr(cases[i].v, out);
        if (strcmp(out, cases[i].want))
            fprintf(stderr, "  float: got %s, want %s\n", out, cases[i].want);
        CHECK(!strcmp(out, cases[i].want));
    }
    ft_float_repr(NAN, out);
    CHECK(!strcmp(out, "nan"));
    ft_float_repr(-INFINITY, out);
    CHECK(!strcmp(out, "-inf"));
}

static void test_long_decimal(void)
{
    /* 2**100 + 1 in 30-bit digits */
    const uint32_t d[] = {1, 0, 0, 1u << 10};
    char out[64];
    CHECK(ft_long_decimal(d, 4, 30, 0, out, sizeof out) == 31 && !strcmp(out, "1267650600228229401496703205377"));
    CHECK(ft_long_decimal(d, 4, 30, 1, out, sizeof out) == 32 && out[0] == '-');
    CHECK(ft_long_decimal(d, 0, 30, 1, out, sizeof out) == 1 && !strcmp(out, "0")); /* no "-0" */
    CHECK(ft_long_decimal(d, 4, 30, 0, out, 10) == (size_t)-1 && out[0] == '\0');
    const uint32_t nine[] = {999999999};
    CHECK(ft_long_decimal(nine, 1, 30, 0, out, sizeof out) == 9 && !strcmp(out, "999999999"));
    const uint32_t billion[] = {1000000000 & ((1u << 30) - 1), 1000000000 >> 30};
    CHECK(ft_long_decimal(billion, 2, 30, 0, out, sizeof out) == 10 && !strcmp(out, "1000000000"));
}

static void test_str_repr(void)
{
    char s[FT_REPR_CHAR_MAX];
    CHECK(ft_repr_char('\n', '\'', s) == 2 && !strcmp(s, "\\n"));
    CHECK(ft_repr_char(0x1b, '\'', s) == 4 && !strcmp(s, "\\x1b"));
    CHECK(ft_repr_char(0x85, '\'', s) == 4 && !strcmp(s, "\\x85"));
    CHECK(ft_repr_char(0x202E, '\'', s) == 6 && !strcmp(s, "\\u202e"));
    CHECK(ft_repr_char(0xDCFF, '\'', s) == 6 && !strcmp(s, "\\udcff"));
    CHECK(ft_repr_char(0xE9, '\'', s) == 2 && !strcmp(s, "\xC3\xA9"));
    CHECK(ft_repr_char(0x1F9F5, '\'', s) == 4);
    CHECK(ft_repr_char(0x10FFFF, '\'', s) == 10 && !strcmp(s, "\\U0010ffff"));
    CHECK(ft_repr_char('\'', '\'', s) == 2 && !strcmp(s, "\\'"));
    CHECK(ft_repr_char('\'', '"', s) == 1);
    CHECK(ft_repr_byte(0xFF, '\'', s) == 4 && !strcmp(s, "\\xff"));
    const uint8_t q[] = {'i', 't', '\'', 's'};
    CHECK(ft_repr_quote_units(1, q, 4) == '"' && ft_repr_quote_bytes(q, 4) == '"');
}

/* ---- values ---- */

static void test_values(int minor)
{
    struct world w;
    world_init(&w, minor);
    struct pyimg *g = &w.img;
    uint64_t none = pyimg_plain(g, FT_TYPE_NONE, 16);
    uint64_t one = pyimg_int(g, 0, 1), neg = pyimg_int(g, 1, 12345), t = pyimg_bool(g, 1), f = pyimg_bool(g, 0);
    uint32_t big_digits[8] = {1, 0, 0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 8; i++) /* 2**(7*shift) + 1 */
        big_digits[i] &= (uint32_t)((1ull << w.layout.c.long_shift) - 1);
    uint64_t big = pyimg_bigint(g, 0, big_digits, 8);
    uint64_t fl = pyimg_float(g, 0.1), inf = pyimg_float(g, INFINITY);
    const uint32_t ucs[] = {'a', 0x7EBF, '\'', 0xDCFF};
    uint64_t s1 = pyimg_str(g, "it's"), s2 = pyimg_str_units(g, 2, ucs, 4);
    uint64_t b = pyimg_bytes(g, "\x00\xff'\"", 4), eb = pyimg_bytes(g, "", 0);
    uint64_t tup1 = pyimg_tuple(g, &one, 1), tup0 = pyimg_tuple(g, NULL, 0);
    uint64_t items[4] = {one, s1, tup1, none};
    uint64_t lst = pyimg_list(g, items, 4);
    uint64_t self = pyimg_list(g, items, 2);
    pyimg_u64(g, pyimg_list_items(g, self) + 8, self); /* [1, [...]] */
    uint64_t keys[2] = {one, tup0};
    uint64_t st = pyimg_setobj(g, keys, 2, 0, none), fz = pyimg_setobj(g, keys, 1, 1, none);
    uint64_t est = pyimg_setobj(g, NULL, 0, 0, none), efz = pyimg_setobj(g, NULL, 0, 1, none);
    const char *names[] = {"k"};
    uint64_t dct = pyimg_str_dict(g, names, &lst, 1);
    uint64_t gkeys[2] = {one, none}, gvals[2] = {t, f};
    uint64_t gdict = pyimg_dict(g, pyimg_keys(g, "general", 3, gkeys, gvals, 2), 0, 2);
    uint64_t heap = pyimg_heap_type(g, "Evil", 0, 16, 0, 0);
    uint64_t evil = pyimg_object(g, 16, heap, 0);
    uint64_t forged = pyimg_object(g, 16, pyimg_heap_type(g, "\x1b[31mX\n\x80\x80\x80", 0, 16, 0, 0), 0);
    struct ft_reader *r = world_open(&w);

    SHOWS(r, none, "None");
    SHOWS(r, one, "1");
    SHOWS(r, neg, "-12345");
    SHOWS(r, t, "True");
    SHOWS(r, f, "False");
    char want[128];
    snprintf(want, sizeof want, "%s",
             w.layout.c.long_shift == 30 ? "1645504557321206042154969182557350504982735865633579863348609025" : "?");
    SHOWS(r, big, want);
    SHOWS(r, fl, "0.1");
    SHOWS(r, inf, "inf");
    SHOWS(r, s1, "\"it's\"");
    SHOWS(r, s2, "\"a\xE7\xBA\xBF'\\udcff\"");
    SHOWS(r, b, "b'\\x00\\xff\\'\"'");
    SHOWS(r, eb, "b''");
    SHOWS(r, tup1, "(1,)");
    SHOWS(r, tup0, "()");
    SHOWS(r, lst, "[1, \"it's\", (1,), None]");
    SHOWS(r, self, "[1, [...]]");
    SHOWS(r, st, "{1, ()}");
    SHOWS(r, fz, "frozenset({1})");
    SHOWS(r, est, "set()");
    SHOWS(r, efz, "frozenset()");
    SHOWS(r, dct, "{'k': [1, \"it's\", (1,), None]}");
    SHOWS(r, gdict, "{1: True, None: False}");
    snprintf(want, sizeof want, "<Evil at 0x%llx>", (unsigned long long)evil);
    SHOWS(r, evil, want);
    /* a type's name is the target's: escaped like every other name */
    snprintf(want, sizeof want, "<\\x1b[31mX\\x0a\\x80\\x80\\x80 at 0x%llx>", (unsigned long long)forged);
    SHOWS(r, forged, want);

    struct ft_render_result res;
    CHECK(!strcmp(show(r, &LIMITS, obj(lst), &res), "[1, \"it's\", (1,), None]") && !strcmp(res.type, "list") &&
          !res.truncated && !res.unreadable);
    /* limits */
    struct ft_render_limits narrow = {40, 2, 1, FT_RENDER_BYTES};
    CHECK(!strcmp(show(r, &narrow, obj(lst), &res), "[1, \"it's\", ...]") && res.truncated);
    narrow.items = 16;
    CHECK(!strncmp(show(r, &narrow, obj(dct), &res), "{'k': <list at 0x", 17) && res.truncated);
    narrow.width = 10;
    CHECK(!strcmp(show(r, &narrow, obj(lst), &res), "[1, \"it's\"...") && res.truncated);
    struct ft_render_limits poor = {200, 16, 4, 40};
    show(r, &poor, obj(lst), &res);
    CHECK(res.truncated);
    /* tagged references (3.14+) and the ones before */
    CHECK(!strcmp(show(r, &LIMITS, (struct ft_ref){FT_REF_INT, 0, -42}, &res), "-42") && !strcmp(res.type, "int"));
    CHECK(!strcmp(show(r, &LIMITS, ft_ref_decode(&w.layout, one | (w.layout.c.stackref_tag_bits & 1)), &res), "1"));
    if (w.layout.c.stackref_int_tag) {
        uint64_t bits = ((uint64_t)-7 << w.layout.c.stackref_int_shift) | w.layout.c.stackref_int_tag;
        CHECK(!strcmp(show(r, &LIMITS, ft_ref_decode(&w.layout, bits), &res), "-7"));
        CHECK(ft_ref_decode(&w.layout, w.layout.c.stackref_null).kind == FT_REF_NULL);
        CHECK(ft_ref_decode(&w.layout, one | 2).kind == FT_REF_INVALID);
    }
    CHECK(ft_ref_decode(&w.layout, 0).kind == FT_REF_NULL || w.layout.c.stackref_null != 0);
}

/* Images that lie: the renderer says unreadable, never crashes. */
static void test_hostile(int minor)
{
    struct world w;
    world_init(&w, minor);
    struct pyimg *g = &w.img;
    const struct ft_offsets *o = &w.layout.off;
    uint64_t one = pyimg_int(g, 0, 1);
    uint64_t huge = pyimg_tuple(g, &one, 1), wild = pyimg_list(g, &one, 1), badset = pyimg_setobj(g, &one, 1, 0, one);
    uint64_t lying_str = pyimg_str(g, "abc"), baddigit = pyimg_int(g, 0, 5);
    uint64_t notype = pyimg_alloc(g, 32, 0);
    pyimg_u64(g, huge + o->tuple_size, 1ull << 40);
    pyimg_u64(g, pyimg_list_items(g, wild), 0xdead0000);
    pyimg_u64(g, badset + o->set_mask, 6); /* not a power of two minus one */
    pyimg_u64(g, lying_str + o->unicode_length, 1ull << 30);
    pyimg_u32(g, baddigit + o->long_digits, 0xffffffff);
    pyimg_u64(g, notype + o->ob_type, 0x1234);
    /* a set whose one key sits at the end of a table of 1024 slots */
    uint64_t sparse = pyimg_setobj(g, &one, 1, 0, one), table = pyimg_alloc(g, 1024 * w.layout.c.set_entry_size, 0);
    pyimg_u64(g, sparse + o->set_mask, 1023);
    pyimg_u64(g, sparse + o->set_table, table);
    pyimg_u64(g, table + 1023 * w.layout.c.set_entry_size + o->setentry_key, one);
    pyimg_u64(g, table + 1023 * w.layout.c.set_entry_size + o->setentry_hash, 5);
    struct ft_reader *r = world_open(&w);
    struct ft_render_result res;
    CHECK(!strcmp(show(r, &LIMITS, obj(sparse), &res), "{1}") && !res.truncated);
    struct ft_render_limits poor = {200, 16, 4, 4096}; /* less than the table */
    CHECK(!strcmp(show(r, &poor, obj(sparse), &res), "{...") && res.truncated && !res.unreadable);
    const uint64_t bad[] = {huge, badset, lying_str, baddigit, notype, 0x10};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = show(r, &LIMITS, obj(bad[i]), &res);
        CHECK(res.unreadable || !strncmp(s, "<? at", 5));
    }
    CHECK(!strcmp(show(r, &LIMITS, obj(wild), &res), "[<unreadable 0xdead0000>]") && res.unreadable);
}

/* ---- frames ---- */

static const struct ft_local *local_named(const struct ft_frame_locals *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return &l->v[i];
    return NULL;
}

#define LOCAL_IS(l, nm, k, cell, val)                                            \
    do {                                                                         \
        const struct ft_local *v_ = local_named(l, nm);                          \
        CHECK(v_ != NULL);                                                       \
        if (v_) {                                                                \
            CHECK(v_->kind == (k) && v_->in_cell == (cell));                     \
            CHECK((val) ? v_->set && !strcmp(v_->value, (val) ? (val) : "") : !v_->set); \
        }                                                                        \
    } while (0)

struct frame_case {
    uint64_t code, frame;
};

/* def f(a, b, *args, kw, **kws): with a captured by an inner function, a
 * local, a cell, a free variable and an unset local. */
static struct frame_case make_frame(struct pyimg *g)
{
    const struct ft_consts *c = &g->l->c;
    uint64_t one = pyimg_int(g, 0, 1), two = pyimg_int(g, 0, 2), s = pyimg_str(g, "x");
    uint64_t empty = pyimg_tuple(g, NULL, 0);
    const char *const names[] = {"a", "b", "kw", "args", "kws", "loc", "unset", "c", "fr"};
    struct pyimg_code_spec spec = {.argcount = 2, .kwonly = 1, .varargs = 1, .varkw = 1, .names = names};
    uint64_t slots[9];
    if (g->l->off.code_localsplusnames != FT_ABSENT) {
        uint8_t kinds[9] = {0};
        for (int i = 0; i < 9; i++)
            kinds[i] = (uint8_t)c->fast_local;
        kinds[0] |= (uint8_t)c->fast_cell;
        kinds[7] = (uint8_t)c->fast_cell;
        kinds[8] = (uint8_t)c->fast_free;
        spec.n = 9;
        spec.kinds = kinds;
        uint64_t v[9] = {pyimg_cell(g, one), two, s, empty, pyimg_str_dict(g, NULL, NULL, 0), one, 0,
                         pyimg_cell(g, 0), pyimg_cell(g, s)};
        for (int i = 0; i < 9; i++)
            slots[i] = pyimg_slot(g, v[i]);
        return (struct frame_case){pyimg_code(g, &spec), pyimg_frame(g, slots, 9)};
    }
    /* <=3.10: 7 varnames, cells a (an argument) and c, free fr */
    const char *const old_names[] = {"a", "b", "kw", "args", "kws", "loc", "unset", "a", "c", "fr"};
    const int64_t cell2arg[2] = {0, (int64_t)c->cell_not_an_arg};
    spec.names = old_names;
    spec.n = 10;
    spec.nlocals = 7;
    spec.ncells = 2;
    spec.cell2arg = cell2arg;
    uint64_t v[10] = {0, two, s, empty, pyimg_str_dict(g, NULL, NULL, 0), one, 0, pyimg_cell(g, one),
                      pyimg_cell(g, 0), pyimg_cell(g, s)};
    return (struct frame_case){pyimg_code(g, &spec), pyimg_frame(g, v, 10)};
}

static void test_locals(int minor, const char *seed_dir)
{
    struct world w;
    world_init(&w, minor);
    struct frame_case fc = make_frame(&w.img);
    struct ft_reader *r = world_open(&w);
    struct ft_code code = {.addr = fc.code};
    struct ft_frame f = {.code = &code, .line = 1, .addr = fc.frame};
    struct ft_frame_locals l;
    CHECK(ft_read_locals(r, NULL, &LIMITS, &f, &l) == 0);
    CHECK(l.error[0] == '\0');
    if (l.error[0])
        fprintf(stderr, "  locals error: %s\n", l.error);
    CHECK_EQ_INT(l.n, 9);
    LOCAL_IS(&l, "a", FT_LOCAL_POSITIONAL, 1, "1");
    LOCAL_IS(&l, "b", FT_LOCAL_POSITIONAL, 0, "2");
    LOCAL_IS(&l, "kw", FT_LOCAL_KEYWORD_ONLY, 0, "'x'");
    LOCAL_IS(&l, "args", FT_LOCAL_VAR_POSITIONAL, 0, "()");
    LOCAL_IS(&l, "kws", FT_LOCAL_VAR_KEYWORD, 0, "{}");
    LOCAL_IS(&l, "loc", FT_LOCAL_PLAIN, 0, "1");
    LOCAL_IS(&l, "unset", FT_LOCAL_PLAIN, 0, NULL);
    LOCAL_IS(&l, "c", FT_LOCAL_CELL, 1, NULL);
    LOCAL_IS(&l, "fr", FT_LOCAL_FREE, 1, "'x'");
    ft_frame_locals_free(&l);
    /* a frame whose code is not a code object */
    code.addr = fc.frame;
    CHECK(ft_read_locals(r, NULL, &LIMITS, &f, &l) == 0 && l.error[0] != '\0');
    ft_frame_locals_free(&l);
    if (seed_dir) {
        char path[512];
        int oldest, newest;
        ft_layout_supported(&oldest, &newest);
        snprintf(path, sizeof path, "%s/locals-3.%d", seed_dir, minor);
        uint64_t rc = fc.code - PYIMG_BASE, rf = fc.frame - PYIMG_BASE;
        unsigned char head[6] = {(unsigned char)(minor - oldest), 0x7D, (unsigned char)rc, (unsigned char)(rc >> 8),
                                 (unsigned char)rf, (unsigned char)(rf >> 8)};
        FILE *fp = fopen(path, "wb");
        CHECK(fp != NULL && pyimg_len(&w.img) <= SEED_MAX);
        if (fp) {
            fwrite(head, 1, sizeof head, fp);
            fwrite(w.img.mem, 1, pyimg_len(&w.img), fp);
            fclose(fp);
        }
    }
}

/* A value image for the fuzzer: a list of everything. */
static void write_value_seed(int minor, const char *dir)
{
    struct world w;
    world_init(&w, minor);
    struct pyimg *g = &w.img;
    uint64_t none = pyimg_plain(g, FT_TYPE_NONE, 16);
    uint64_t items[8] = {pyimg_int(g, 1, 99), pyimg_float(g, 2.5), pyimg_str(g, "s"), pyimg_bytes(g, "b", 1),
                         pyimg_tuple(g, &none, 1), none, pyimg_bool(g, 1), 0};
    uint64_t keys[2] = {items[0], items[2]};
    items[7] = pyimg_setobj(g, keys, 2, 1, none);
    uint64_t lst = pyimg_list(g, items, 8);
    const char *names[] = {"k"};
    uint64_t d = pyimg_str_dict(g, names, &lst, 1);
    char path[512];
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    snprintf(path, sizeof path, "%s/values-3.%d", dir, minor);
    uint64_t rel = d - PYIMG_BASE;
    unsigned char head[6] = {(unsigned char)(minor - oldest), 0x7E, (unsigned char)rel, (unsigned char)(rel >> 8), 0, 0};
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL && pyimg_len(g) <= SEED_MAX);
    if (fp) {
        fwrite(head, 1, sizeof head, fp);
        fwrite(g->mem, 1, pyimg_len(g), fp);
        fclose(fp);
    }
}

int main(int argc, char **argv)
{
    const char *seed_dir = argc == 3 && !strcmp(argv[1], "--write-seeds") ? argv[2] : NULL;
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    test_float_repr();
    test_long_decimal();
    test_str_repr();
    for (int minor = oldest; minor <= newest; minor++) {
        int before = check_failures;
        test_values(minor);
        test_hostile(minor);
        test_locals(minor, seed_dir);
        if (seed_dir)
            write_value_seed(minor, seed_dir);
        if (check_failures != before)
            fprintf(stderr, "  (failures above: layout 3.%d)\n", minor);
    }
    return check_report("render");
}
