/*
 * test_objects.c - the object reader (objects.c) and thread names
 * (thread_names.c) on memory images built with each supported version's
 * generated layout (tests/fuzz/pyimage.h): str of every kind, ints of both
 * encodings, floats, dicts of every keys kind, instance attributes in every
 * storage a version uses, module lookup, threading's names; then hostile
 * images (lengths, counts, sizes, kinds and types that lie), which must
 * fail cleanly.
 *
 * `test_objects --write-seeds DIR` also writes the thread-name image of
 * each version as a seed for tests/fuzz/fuzz_objects.c.
 */
#include "cpython/code.h"
#include "cpython/thread_names.h"
#include "util/error.h"
#include "check.h"
#include "world.h"

#include <stdio.h>
#include <string.h>

#define SEED_MAX 4092 /* make fuzz runs with -max_len=4096, 4 bytes of header */


static int is_311(const struct ft_layout *l) { return l->off.managed_values_before != FT_ABSENT; }
static int is_312(const struct ft_layout *l) { return l->c.managed_values_tag != 0; }
static int has_inline(const struct ft_layout *l) { return l->c.tpflags_inline_values != 0; }
static int has_managed(const struct ft_layout *l) { return l->c.tpflags_managed_dict != 0; }

/* ---- scalars ---- */

static void test_strs(int minor)
{
    struct world w;
    world_init(&w, minor);
    const uint32_t latin1[] = {'w', 0xF6, 'r'}, ucs2[] = {0x7EBF, 0x7A0B}, ucs4[] = {'e', 0x1F9F5};
    uint64_t a = pyimg_str(&w.img, "plain"), l1 = pyimg_str_units(&w.img, 1, latin1, 3);
    uint64_t u2 = pyimg_str_units(&w.img, 2, ucs2, 2), u4 = pyimg_str_units(&w.img, 4, ucs4, 2);
    uint64_t i = pyimg_int(&w.img, 0, 5);
    uint64_t last = pyimg_str(&w.img, "end"); /* memory ends right after it */
    struct ft_reader *r = world_open(&w);
    char out[64];
    CHECK(ft_obj_str(r, last, out, sizeof out) == 0 && !strcmp(out, "end"));
    CHECK(ft_obj_str(r, a, out, sizeof out) == 0 && !strcmp(out, "plain"));
    CHECK(ft_obj_str(r, l1, out, sizeof out) == 0 && !strcmp(out, "w\xC3\xB6r"));
    CHECK(ft_obj_str(r, u2, out, sizeof out) == 0 && !strcmp(out, "\xE7\xBA\xBF\xE7\xA8\x8B"));
    CHECK(ft_obj_str(r, u4, out, sizeof out) == 0 && !strcmp(out, "e\xF0\x9F\xA7\xB5"));
    CHECK(ft_obj_str(r, a, out, 4) == 0 && !strcmp(out, "pla"));
    CHECK(ft_obj_str(r, u2, out, 5) == 0 && !strcmp(out, "\xE7\xBA\xBF")); /* cut between characters */
    CHECK(ft_obj_str(r, i, out, sizeof out) < 0 && ft_error_kind() == FT_E_CORRUPT && !out[0]);
    CHECK(ft_obj_str(r, 0, out, sizeof out) < 0);
    CHECK(ft_obj_type_name(r, i, out, sizeof out) == 0 && !strcmp(out, "int"));
    CHECK(ft_obj_type_name(r, a, out, 3) == 0 && !strcmp(out, "st"));

    const struct ft_offsets *o = &w.layout.off;
    const struct ft_consts *c = &w.layout.c;
    uint32_t state = 1u << c->state_compact_bit | 1u << c->state_kind_shift | 1u << c->state_ascii_bit;
    pyimg_u64(&w.img, a + o->unicode_length, (uint64_t)-1); /* negative length */
    pyimg_u64(&w.img, l1 + o->unicode_length, 1ull << 40);  /* absurd length */
    pyimg_u32(&w.img, u2 + o->unicode_state, state & ~(1u << c->state_compact_bit));
    pyimg_u32(&w.img, u4 + o->unicode_state, 3u << c->state_kind_shift | 1u << c->state_compact_bit);
    r = world_open(&w);
    CHECK(ft_obj_str(r, a, out, sizeof out) < 0);
    CHECK(ft_obj_str(r, l1, out, sizeof out) < 0);
    CHECK(ft_obj_str(r, u2, out, sizeof out) < 0);
    CHECK(ft_obj_str(r, u4, out, sizeof out) < 0 && ft_error_kind() == FT_E_CORRUPT);
}

static void test_ints(int minor)
{
    struct world w;
    world_init(&w, minor);
    const uint64_t mags[] = {0, 1, (1u << 30) - 1, 1u << 30, (1ull << 62) + 12345, UINT64_MAX};
    uint64_t a[6], neg = pyimg_int(&w.img, 1, 1ull << 45), min = pyimg_int(&w.img, 1, 1ull << 63);
    for (int i = 0; i < 6; i++)
        a[i] = pyimg_int(&w.img, 0, mags[i]);
    uint64_t f = pyimg_float(&w.img, -2.5e-3), s = pyimg_str(&w.img, "1");
    uint64_t last = pyimg_int(&w.img, 0, 3); /* memory ends right after it */
    struct ft_reader *r = world_open(&w);
    uint64_t u;
    int64_t v;
    double d;
    for (int i = 0; i < 6; i++)
        CHECK(ft_obj_u64(r, a[i], &u) == 0 && u == mags[i]);
    CHECK(ft_obj_int(r, a[4], &v) == 0 && v == (int64_t)((1ull << 62) + 12345));
    CHECK(ft_obj_int(r, last, &v) == 0 && v == 3);
    CHECK(ft_obj_int(r, a[5], &v) < 0); /* beyond int64 */
    CHECK(ft_obj_int(r, neg, &v) == 0 && v == -(int64_t)(1ull << 45));
    CHECK(ft_obj_int(r, min, &v) == 0 && v == INT64_MIN);
    CHECK(ft_obj_u64(r, neg, &u) < 0);
    CHECK(ft_obj_float(r, f, &d) == 0 && d == -2.5e-3);
    CHECK(ft_obj_float(r, a[1], &d) < 0 && ft_obj_int(r, f, &v) < 0 && ft_obj_int(r, s, &v) < 0);

    const struct ft_offsets *o = &w.layout.off;
    const struct ft_consts *c = &w.layout.c;
    uint32_t big = 1u << 31; /* a digit out of range */
    pyimg_set(&w.img, a[2] + o->long_digits, &big, 4);
    if (o->long_tag != FT_ABSENT) {
        pyimg_u64(&w.img, a[1] + o->long_tag, 1ull << 40 << c->long_non_size_bits);
        pyimg_u64(&w.img, a[3] + o->long_tag, 2ull << c->long_non_size_bits | 3); /* sign 3 */
    } else {
        pyimg_u64(&w.img, a[1] + o->long_size, 1ull << 40);
        pyimg_u64(&w.img, a[3] + o->long_size, (uint64_t)INT64_MIN);
    }
    uint32_t top = 1u << 29; /* a third digit that takes the value past 64 bits */
    pyimg_set(&w.img, a[5] + o->long_digits + 2 * c->long_digit_size, &top, 4);
    r = world_open(&w);
    CHECK(ft_obj_u64(r, a[1], &u) < 0 && ft_error_kind() == FT_E_CORRUPT);
    CHECK(ft_obj_u64(r, a[2], &u) < 0);
    CHECK(ft_obj_u64(r, a[3], &u) < 0);
    CHECK(ft_obj_u64(r, a[5], &u) < 0);
}

/* ---- dicts ---- */

static void test_dicts(int minor)
{
    struct world w;
    world_init(&w, minor);
    struct pyimg *g = &w.img;
    const char *names[] = {"alpha", NULL, "gamma", "d\xC3\xA9lta"};
    uint64_t vals[4] = {pyimg_int(g, 0, 1), pyimg_int(g, 0, 2), pyimg_int(g, 0, 3), pyimg_int(g, 0, 4)};
    uint64_t strd = pyimg_str_dict(g, names, vals, 3);
    const uint32_t delta[] = {'d', 0xE9, 'l', 't', 'a'};
    uint64_t gkeys[3] = {pyimg_int(g, 0, 7), pyimg_str(g, "gamma"), pyimg_str_units(g, 1, delta, 5)};
    uint64_t gen = pyimg_dict(g, pyimg_keys(g, "general", 3, gkeys, vals, 3), 0, 3);
    uint64_t skeys[2] = {pyimg_str(g, "x"), pyimg_str(g, "y")};
    uint64_t shared = pyimg_keys(g, "split", 3, skeys, NULL, 2);
    uint64_t split = pyimg_dict(g, shared, pyimg_values(g, vals, 2, 2, 1), 2);
    uint64_t no_values = pyimg_dict(g, pyimg_keys(g, "split", 3, skeys, NULL, 2), 0, 2);
    uint64_t ukeys = pyimg_keys(g, "unicode", 3, skeys, vals, 2);
    uint64_t extra_values = pyimg_dict(g, ukeys, pyimg_values(g, vals + 2, 2, 2, 1), 2);
    const uint32_t dee[] = {'d', 0xE9, 0xE9};
    uint64_t dee_key = pyimg_str_units(g, 1, dee, 3);
    uint64_t deed = pyimg_dict(g, pyimg_keys(g, "unicode", 3, &dee_key, vals, 1), 0, 1);
    uint64_t notdict = pyimg_str(g, "not a dict");
    struct ft_reader *r = world_open(&w);
    uint64_t v, k;
    CHECK(ft_dict_lookup_str(r, strd, "gamma", &v) == 0 && v == vals[2]);
    CHECK(ft_dict_lookup_str(r, strd, "beta", &v) == FT_OBJ_ABSENT);
    CHECK(ft_dict_lookup_str(r, gen, "gamma", &v) == 0 && v == vals[1]); /* past an int key */
    CHECK(ft_dict_lookup_str(r, gen, "d\xC3\xA9lta", &v) == 0 && v == vals[2]);
    CHECK(ft_dict_lookup_str(r, gen, "d\xC3\xA9lt", &v) == FT_OBJ_ABSENT); /* a prefix is not the key */
    CHECK(ft_dict_lookup_str(r, gen, "d\xC3\xA9", &v) == FT_OBJ_ABSENT);
    CHECK(ft_dict_lookup_str(r, deed, "d\xC3\xA9", &v) == FT_OBJ_ABSENT); /* not cut down to the key */
    CHECK(ft_dict_lookup_str(r, deed, "d\xC3\xA9\xC3\xA9", &v) == 0 && v == vals[0]);
    CHECK(ft_dict_lookup_str(r, split, "y", &v) == 0 && v == vals[1]);
    CHECK(ft_dict_lookup_str(r, notdict, "y", &v) < 0);
    if (w.layout.off.dictkeys_kind != FT_ABSENT) { /* kind and ma_values must agree */
        CHECK(ft_dict_lookup_str(r, no_values, "y", &v) < 0);
        CHECK(ft_dict_lookup_str(r, extra_values, "y", &v) < 0);
    } else { /* ma_values alone makes a table split */
        CHECK(ft_dict_lookup_str(r, no_values, "y", &v) == FT_OBJ_ABSENT);
        CHECK(ft_dict_lookup_str(r, extra_values, "y", &v) == 0 && v == vals[3]);
    }
    struct ft_dict_iter it;
    int n = 0;
    CHECK(ft_dict_iter_init(r, strd, &it) == 0);
    while (ft_dict_iter_next(&it, &k, &v) == 1)
        CHECK(v == vals[n == 0 ? 0 : 2] && n++ < 2); /* the deleted entry is skipped */
    CHECK_EQ_INT(n, 2);

    const struct ft_offsets *o = &w.layout.off;
    uint64_t keys_of_strd = 0, keys_of_gen = 0;
    memcpy(&keys_of_strd, g->mem + (strd + o->dict_keys - PYIMG_BASE), 8);
    memcpy(&keys_of_gen, g->mem + (gen + o->dict_keys - PYIMG_BASE), 8);
    pyimg_u64(g, keys_of_strd + o->dictkeys_nentries, 1000); /* more entries than slots */
    if (o->dictkeys_log2_size != FT_ABSENT) {
        pyimg_u8(g, keys_of_gen + o->dictkeys_kind, 9);
        pyimg_u8(g, shared + o->dictkeys_log2_size, 60);
    } else {
        pyimg_u64(g, keys_of_gen + o->dictkeys_size, 12);    /* not a power of two */
        pyimg_u64(g, shared + o->dictkeys_size, 1ull << 50);
    }
    r = world_open(&w);
    CHECK(ft_dict_lookup_str(r, strd, "gamma", &v) < 0 && ft_error_kind() == FT_E_CORRUPT);
    CHECK(ft_dict_lookup_str(r, gen, "gamma", &v) < 0);
    CHECK(ft_dict_lookup_str(r, split, "y", &v) < 0);
}

static void test_big_dict(int minor)
{
    struct world w;
    world_init(&w, minor);
    uint64_t keys[300], vals[300];
    char name[16];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "k%d", i);
        keys[i] = pyimg_str(&w.img, name);
        vals[i] = keys[i];
    }
    uint64_t k = pyimg_keys(&w.img, "unicode", 9, keys, vals, 300), d = pyimg_dict(&w.img, k, 0, 300);
    struct ft_reader *r = world_open(&w);
    uint64_t v;
    CHECK(ft_dict_lookup_str(r, d, "k299", &v) == 0 && v == vals[299]); /* 2-byte indices */
    CHECK(ft_dict_lookup_str(r, d, "k300", &v) == FT_OBJ_ABSENT);

    const struct ft_offsets *o = &w.layout.off; /* plausible, but more than is ever read */
    pyimg_u64(&w.img, k + o->dictkeys_nentries, FT_DICT_MAX_ENTRIES + 1);
    if (o->dictkeys_log2_size != FT_ABSENT) {
        pyimg_u8(&w.img, k + o->dictkeys_log2_size, 22);
        pyimg_u8(&w.img, k + o->dictkeys_log2_index_bytes, 24);
    } else {
        pyimg_u64(&w.img, k + o->dictkeys_size, 1u << 22);
    }
    r = world_open(&w);
    CHECK(ft_dict_lookup_str(r, d, "k1", &v) < 0 && strstr(ft_error_message(), "more than frametap reads"));
}

/* ---- instances ---- */

enum storage { IN_VALUES, IN_DICT, IN_MATERIALISED };

/* A heap type whose instances share keys for the attributes names[]. */
struct pyclass {
    uint64_t type, shared, keys[8];
    size_t n;
};

static struct pyclass make_class(struct pyimg *g, const char *name, const char *const *names, size_t n)
{
    const struct ft_layout *l = g->l;
    struct pyclass c = {.n = n};
    for (size_t i = 0; i < n; i++)
        c.keys[i] = pyimg_str(g, names[i]);
    c.shared = pyimg_keys(g, "split", 3, c.keys, NULL, n);
    if (!has_managed(l))
        c.type = pyimg_heap_type(g, name, 0, 24, 16, c.shared);
    else
        c.type = pyimg_heap_type(g, name, l->c.tpflags_managed_dict | l->c.tpflags_inline_values, 16, -1,
                                 c.shared);
    return c;
}

/* An instance with attribute i = values[i], kept the way this version keeps
 * them: in a dict of its own, or in values outside a dict (3.13+: inline,
 * and with IN_MATERIALISED also a dict over those inline values). */
static uint64_t make_instance(struct pyimg *g, const struct pyclass *c, const uint64_t *values,
                              enum storage how)
{
    const struct ft_layout *l = g->l;
    size_t n = c->n;
    uint64_t own = how == IN_DICT ? pyimg_keys(g, "unicode", 3, c->keys, values, n) : 0;
    if (!has_managed(l)) {
        uint64_t obj = pyimg_object(g, 24, c->type, 0);
        pyimg_u64(g, obj + 16, own ? pyimg_dict(g, own, 0, n)
                                   : pyimg_dict(g, c->shared, pyimg_values(g, values, n, n, 1), n));
        return obj;
    }
    if (has_inline(l)) {
        uint64_t obj = pyimg_object(g, 16 + l->off.dictvalues_values + 8 * n, c->type, l->off.managed_dict_before);
        uint64_t inl = obj + 16;
        pyimg_u8(g, inl + l->off.dictvalues_capacity, (uint8_t)n);
        pyimg_u8(g, inl + l->off.dictvalues_valid, how != IN_DICT);
        for (size_t i = 0; how != IN_DICT && i < n; i++)
            pyimg_u64(g, inl + l->off.dictvalues_values + 8 * i, values[i]);
        uint64_t dict = own ? pyimg_dict(g, own, 0, n) : how == IN_MATERIALISED ? pyimg_dict(g, c->shared, inl, n) : 0;
        pyimg_u64(g, obj - l->off.managed_dict_before, dict);
        return obj;
    }
    size_t before = is_311(l) ? l->off.managed_values_before : l->off.managed_dict_before;
    uint64_t obj = pyimg_object(g, 16, c->type, before);
    uint64_t vals = own ? 0 : pyimg_values(g, values, n, n, 1);
    if (is_311(l) && how == IN_VALUES)
        pyimg_u64(g, obj - l->off.managed_values_before, vals);
    else if (is_312(l) && how == IN_VALUES)
        pyimg_u64(g, obj - l->off.managed_dict_before, vals - l->c.managed_values_delta);
    else
        pyimg_u64(g, obj - l->off.managed_dict_before, pyimg_dict(g, own ? own : c->shared, vals, n));
    return obj;
}

static void test_attrs(int minor)
{
    for (int how = IN_VALUES; how <= IN_MATERIALISED; how++) {
        struct world w;
        world_init(&w, minor);
        const char *names[] = {"_target", "_name", "_ident"};
        uint64_t vals[3] = {pyimg_int(&w.img, 0, 1), pyimg_str(&w.img, "w\xC3\xB6rker"), pyimg_int(&w.img, 0, 99)};
        struct pyclass cls = make_class(&w.img, "Thread", names, 3);
        uint64_t obj = make_instance(&w.img, &cls, vals, (enum storage)how);
        uint64_t no_dict = pyimg_object(&w.img, 16, pyimg_heap_type(&w.img, "Slots", 0, 24, 0, 0), 0);
        struct ft_reader *r = world_open(&w);
        uint64_t v;
        char out[32];
        CHECK(ft_obj_attr(r, obj, "_name", &v) == 0 && v == vals[1]);
        CHECK(ft_obj_attr(r, obj, "_ident", &v) == 0 && v == vals[2]);
        CHECK(ft_obj_attr(r, obj, "_other", &v) == FT_OBJ_ABSENT);
        CHECK(ft_obj_attr(r, no_dict, "_name", &v) == FT_OBJ_ABSENT);
        CHECK(ft_obj_type_name(r, obj, out, sizeof out) == 0 && !strcmp(out, "Thread"));

        uint64_t type;
        memcpy(&type, w.img.mem + (obj + w.layout.off.ob_type - PYIMG_BASE), 8);
        if (has_inline(&w.layout)) /* inline values need a sane tp_basicsize */
            pyimg_u64(&w.img, type + w.layout.off.type_basicsize, 3);
        else if (!has_managed(&w.layout))
            pyimg_u64(&w.img, type + w.layout.off.type_dictoffset, (uint64_t)-8);
        else /* the dict or values word points outside the image */
            pyimg_u64(&w.img, obj - w.layout.off.managed_dict_before, 0x7000000);
        r = world_open(&w);
        int rc = ft_obj_attr(r, obj, "_name", &v);
        CHECK(rc < 0 || (is_311(&w.layout) && how == IN_VALUES && rc == 0));
    }
}

/* ---- modules and thread names ---- */

struct scenario {
    uint64_t interp, bare_interp;
};

/* sys.modules with threading: _active holds two threads (one stored in a
 * dict, one in values) and an entry whose key is not an int; _limbo one
 * thread with an _ident and one whose _ident is not an int yet. */
static struct scenario make_threads(struct pyimg *g)
{
    const char *names[] = {"_target", "_name", "_ident"};
    struct pyclass cls = make_class(g, "Thread", names, 3); /* first: small objects fill its gap */
    uint64_t v1[3] = {pyimg_int(g, 0, 0), pyimg_str(g, "MainThread"), pyimg_int(g, 0, 0x7f0011223344)};
    const uint32_t u[] = {'w', 0xF6, 'r', 'k', 'e', 'r', '-', 0xFC};
    uint64_t v2[3] = {v1[0], pyimg_str_units(g, 1, u, 8), pyimg_int(g, 0, 0x7f00aabbccdd)};
    uint64_t v3[3] = {v1[0], pyimg_str(g, "starting"), pyimg_int(g, 0, 0x7f0099887766)};
    uint64_t v4[3] = {v1[0], pyimg_str(g, "no-ident-yet"), pyimg_float(g, 0.5)};
    uint64_t t1 = make_instance(g, &cls, v1, IN_DICT), t2 = make_instance(g, &cls, v2, IN_VALUES);
    uint64_t t3 = make_instance(g, &cls, v3, IN_VALUES), t4 = make_instance(g, &cls, v4, IN_MATERIALISED);
    uint64_t akeys[3] = {v1[2], pyimg_str(g, "junk"), v2[2]}, avals[3] = {t1, t2, t2};
    uint64_t active = pyimg_dict(g, pyimg_keys(g, "general", 3, akeys, avals, 3), 0, 3);
    uint64_t lkeys[2] = {t3, t4};
    uint64_t limbo = pyimg_dict(g, pyimg_keys(g, "general", 3, lkeys, lkeys, 2), 0, 2);
    const char *gnames[] = {"__name__", "_active", "_limbo"};
    uint64_t gvals[3] = {pyimg_str(g, "threading"), active, limbo};
    uint64_t threading = pyimg_module(g, pyimg_str_dict(g, gnames, gvals, 3));
    const char *mnames[] = {"sys", "threading"};
    uint64_t mvals[2] = {pyimg_module(g, pyimg_str_dict(g, gnames, gvals, 1)), threading};
    uint64_t modules = pyimg_str_dict(g, mnames, mvals, 2), bare = pyimg_str_dict(g, mnames, mvals, 1);
    uint64_t slots = pyimg_alloc(g, 16, 0);
    pyimg_u64(g, slots, modules);
    pyimg_u64(g, slots + 8, bare);
    /* the interpreter state itself is not in the image: only its modules field is read */
    return (struct scenario){slots - g->l->off.interp_modules, slots + 8 - g->l->off.interp_modules};
}

static void write_seed(const char *dir, int minor, const struct pyimg *g, uint64_t interp)
{
    char path[512];
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    snprintf(path, sizeof path, "%s/threads-3.%d", dir, minor);
    uint64_t rel = interp - PYIMG_BASE; /* wraps: the fuzzer adds it back */
    unsigned char head[4] = {(unsigned char)(minor - oldest), 8, (unsigned char)rel, (unsigned char)(rel >> 8)};
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && pyimg_len(g) <= SEED_MAX);
    if (f) {
        fwrite(head, 1, 4, f);
        fwrite(g->mem, 1, pyimg_len(g), f);
        fclose(f);
    }
}

static void test_thread_names(int minor, const char *seed_dir)
{
    struct world w;
    world_init(&w, minor);
    struct scenario s = make_threads(&w.img);
    struct ft_reader *r = world_open(&w);
    struct ft_thread_name names[8];
    size_t n = 99;
    uint64_t mod;
    CHECK(ft_find_module(r, s.interp, "threading", &mod) == 0);
    CHECK(ft_find_module(r, s.interp, "json", &mod) == FT_OBJ_ABSENT);
    CHECK(ft_thread_names(r, s.interp, names, 8, &n) == 0);
    CHECK_EQ_INT(n, 3);
    const char *main = ft_thread_name_of(names, n, 0x7f0011223344);
    const char *worker = ft_thread_name_of(names, n, 0x7f00aabbccdd);
    const char *starting = ft_thread_name_of(names, n, 0x7f0099887766);
    CHECK(main && !strcmp(main, "MainThread"));
    CHECK(worker && !strcmp(worker, "w\xC3\xB6rker-\xC3\xBC"));
    CHECK(starting && !strcmp(starting, "starting"));
    CHECK(ft_thread_names(r, s.interp, names, 1, &n) == 0 && n == 1);
    CHECK(ft_thread_names(r, s.bare_interp, names, 8, &n) == 0 && n == 0); /* no threading */
    if (seed_dir)
        write_seed(seed_dir, minor, &w.img, s.interp);
}

int main(int argc, char **argv)
{
    const char *seed_dir = argc == 3 && !strcmp(argv[1], "--write-seeds") ? argv[2] : NULL;
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    for (int minor = oldest; minor <= newest; minor++) {
        int before = check_failures;
        test_strs(minor);
        test_ints(minor);
        test_dicts(minor);
        test_big_dict(minor);
        test_attrs(minor);
        test_thread_names(minor, seed_dir);
        if (check_failures != before)
            fprintf(stderr, "  (failures above: layout 3.%d)\n", minor);
    }
    return check_report("objects");
}
