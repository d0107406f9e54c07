/*
 * test_output.c - the escaping rule (text, XML, JSON), format names and
 * ft_output_check, collapsed merging across threads, the truncation marker
 * in every profile format, hostile names through every writer, the stack
 * tree under a node with thousands of children, and the progress message.
 */
#include "output/profile_format.h"
#include "util/escape.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char *esc_text(const char *s, const char *also)
{
    static struct strbuf sb;
    sb_free(&sb);
    ft_esc_text(&sb, s, also);
    return sb.data ? sb.data : "";
}

static char *esc_json(const char *s)
{
    static struct strbuf sb;
    sb_free(&sb);
    ft_esc_json(&sb, s);
    return sb.data;
}

static char *esc_xml(const char *s)
{
    static struct strbuf sb;
    sb_free(&sb);
    ft_esc_xml(&sb, s);
    return sb.data ? sb.data : "";
}

static void test_text_rule(void)
{
    CHECK(!strcmp(esc_text("plain \\ name (x.py:3)", NULL), "plain \\ name (x.py:3)"));
    CHECK(!strcmp(esc_text("a\x1b[31mred\nforged\tline\x7f", NULL),
                  "a\\x1b[31mred\\x0aforged\\x09line\\x7f"));
    CHECK(!strcmp(esc_text("caf\xC3\xA9 \xCE\xBB", NULL), "caf\xC3\xA9 \xCE\xBB"));  /* UTF-8 kept */
    CHECK(!strcmp(esc_text("n\xFF" "a\xC3", NULL), "n\\xffa\\xc3"));          /* stray, truncated */
    CHECK(!strcmp(esc_text("\xC0\x80|\xED\xA0\x80|\xF4\x90\x80\x80", NULL),   /* overlong, surrogate, */
                  "\\xc0\\x80|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80"));          /* > U+10FFFF */
    CHECK(!strcmp(esc_text("\xC2\x85|\xE2\x80\xAE|\xE2\x81\xA6|\xEF\xBF\xBF", NULL),
                  "\\u0085|\\u202e|\\u2066|\\uffff"));                       /* C1, bidi, nonchar */
    CHECK(!strcmp(esc_text("a;b c", ";"), "a\\x3bb c"));
    CHECK(!strcmp(esc_text(NULL, NULL), ""));
}

static void test_json_and_xml(void)
{
    CHECK(!strcmp(esc_json("a\"b\\c\n<script>&\x01\xFF\xC3\xA9"),
                  "\"a\\\"b\\\\c\\u000a<script>&\\u0001\\ufffd\xC3\xA9\""));
    CHECK(!strcmp(esc_json("\x1b\x7f\xC2\x9B\xE2\x80\xA8"), "\"\\u001b\\u007f\\u009b\\u2028\""));
    CHECK(!strcmp(esc_xml("<a href='x'>&\"\x1b\xFF</a>"),
                  "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\x1b\\xff&lt;/a&gt;"));
}

static void test_format_names(void)
{
    enum ft_format f;
    CHECK(ft_format_parse("flamegraph", &f) == 0 && f == FT_FMT_SVG);
    CHECK(ft_format_parse("raw", &f) == 0 && f == FT_FMT_COLLAPSED);
    CHECK(ft_format_parse("svg", &f) == 0 && f == FT_FMT_SVG);
    CHECK(ft_format_parse("bogus", &f) < 0);
    CHECK(!strcmp(ft_format_name(FT_FMT_SVG), "svg"));
    CHECK(!strcmp(ft_format_name(FT_FMT_COLLAPSED), "collapsed"));
    CHECK(ft_format_from_path("p.trace.json", &f) == 0 && f == FT_FMT_CHROME);
    CHECK(ft_format_from_path("out.speedscope", &f) < 0);
}

static void test_output_check(const char *dir)
{
    char why[512], path[512];
    snprintf(path, sizeof path, "%s/out.speedscope", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) < 0);
    CHECK(strstr(why, "extension") && strstr(why, ".speedscope.json") && strstr(why, "flamegraph"));
    CHECK(ft_output_check(path, 1, FT_FMT_SPEEDSCOPE, why, sizeof why) == 0);
    snprintf(path, sizeof path, "%s/noext", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) < 0);
    snprintf(path, sizeof path, "%s/p.svg", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) == 0);
    CHECK(ft_output_check(path, 1, (enum ft_format)42, why, sizeof why) < 0);
    CHECK(strstr(why, "unknown format") != NULL);
    snprintf(path, sizeof path, "%s/missing/p.svg", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) < 0);
    CHECK(strstr(why, "does not exist") != NULL);
    snprintf(path, sizeof path, "%s/sub.svg", dir);
    mkdir(path, 0700);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) < 0);
    CHECK(strstr(why, "is a directory") != NULL);
    rmdir(path);
    snprintf(path, sizeof path, "%s/bad\x1b[2J.svg", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) == 0);
    snprintf(path, sizeof path, "%s/missing/bad\x1b.svg", dir);
    CHECK(ft_output_check(path, 0, FT_FMT_SVG, why, sizeof why) < 0 && !strchr(why, '\x1b'));
    CHECK(ft_output_check("p.pb.gz", 0, FT_FMT_SVG, why, sizeof why) == 0); /* cwd */
    CHECK(ft_output_check("", 0, FT_FMT_SVG, why, sizeof why) < 0);
}

/* Reads a whole file (gunzipping it if it is gzip). */
static char *slurp(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    int got;
    while (gz && buf && (got = gzread(gz, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    if (gz)
        gzclose(gz);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static char *write_and_read(const struct ft_profile *p, enum ft_format f, int per_thread,
                            const char *dir, size_t *len)
{
    char path[512];
    struct ft_write_opts o = {per_thread, "t\x1bitle", "wall", 1000000};
    snprintf(path, sizeof path, "%s/out.%s", dir, ft_format_name(f));
    CHECK(ft_write_profile(path, f, p, &o) == 0);
    char *data = slurp(path, len);
    unlink(path);
    return data;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_collapsed_merges_threads(const char *dir)
{
    struct ft_profile p;
    ft_profile_init(&p, 0);
    struct ft_loc locs[2] = {{ft_profile_func(&p, "wait", "t.py", 1), 5},
                             {ft_profile_func(&p, "<module>", "t.py", 1), 9}};
    uint32_t st = ft_profile_stack(&p, locs, 2, 0);
    for (int t = 0; t < 1000; t++) {
        char name[16];
        snprintf(name, sizeof name, "idle-%d", t);
        ft_profile_add(&p, ft_profile_thread(&p, 100 + t, name), st, 1000 + (uint64_t)t);
    }
    size_t len;
    char *out = write_and_read(&p, FT_FMT_COLLAPSED, 0, dir, &len);
    CHECK(out && !strcmp(out, "<module> (t.py:9);wait (t.py:5) 1000\n"));
    free(out);
    out = write_and_read(&p, FT_FMT_COLLAPSED, 1, dir, &len);
    CHECK(out && count_lines(out) == 1000 && !strncmp(out, "thread 100 (idle-0);<module>", 28));
    free(out);
    ft_profile_free(&p);
}

static void test_truncated_marker(const char *dir)
{
    struct ft_profile p;
    ft_profile_init(&p, 1);
    enum { KEPT = 8192 };
    struct ft_loc *locs = malloc(KEPT * sizeof *locs);
    uint32_t rec = ft_profile_func(&p, "rec", "deep.py", 3);
    for (size_t i = 0; i < KEPT; i++)
        locs[i] = (struct ft_loc){rec, 4};
    uint32_t th = ft_profile_thread(&p, 7, "main");
    uint32_t cut = ft_profile_stack(&p, locs, KEPT, 1);
    uint32_t whole = ft_profile_stack(&p, locs, 10, 0);
    CHECK(cut != ft_profile_stack(&p, locs, KEPT, 0));    /* cut != the same frames whole */
    CHECK(p.stacks[cut].depth == KEPT + 1 && p.stacks[cut].truncated);
    ft_profile_add(&p, th, cut, 1000);
    ft_profile_add(&p, th, cut, 2000);
    ft_profile_add(&p, th, whole, 3000);
    CHECK_EQ_INT(p.truncated_samples, 2);
    CHECK_EQ_INT(p.total_samples, 3);
    static const enum ft_format all[] = {FT_FMT_SVG, FT_FMT_SPEEDSCOPE, FT_FMT_COLLAPSED,
                                         FT_FMT_PPROF, FT_FMT_CHROME};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        size_t len;
        char *out = write_and_read(&p, all[i], 0, dir, &len);
        CHECK(out && memmem(out, len, "truncated at 8192 frames", 24));
        if (all[i] == FT_FMT_COLLAPSED)
            CHECK(out && !strncmp(out, "<truncated at 8192 frames>;rec (deep.py:4);", 43));
        free(out);
    }
    free(locs);
    ft_profile_free(&p);
}

/* No control bytes but '\n' ending lines, and valid UTF-8 (checked by the
 * escaper itself: escaping it again must change nothing but backslashes). */
static int clean_text(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
            return 0;
    return 1;
}

static void test_hostile_names(const char *dir)
{
    static const char *names[] = {"esc\x1b[31mred", "new\nline", "semi;colon", "tab\there",
                                  "bad\xFF\xFE", "del\x7f", "c1\xC2\x9B", "nul-free\x01\x02"};
    struct ft_profile p;
    ft_profile_init(&p, 1);
    uint32_t th = ft_profile_thread(&p, 9, "th\x1b\n");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct ft_loc loc = {ft_profile_func(&p, names[i], names[i], 1), 2};
        ft_profile_add(&p, th, ft_profile_stack(&p, &loc, 1, 0), 1000 * (i + 1));
    }
    for (int per_thread = 0; per_thread < 2; per_thread++) {
        size_t len;
        char *out = write_and_read(&p, FT_FMT_COLLAPSED, per_thread, dir, &len);
        CHECK(out && clean_text(out) && count_lines(out) == 8 && strlen(out) == len);
        CHECK(out && strstr(out, "semi\\x3bcolon (semi\\x3bcolon:2) 1\n"));
        CHECK(out && strstr(out, "bad\\xff\\xfe (bad\\xff\\xfe:2) 1\n"));
        free(out);
        out = write_and_read(&p, FT_FMT_SVG, per_thread, dir, &len);
        CHECK(out && clean_text(out) && strstr(out, "esc\\x1b[31mred (esc\\x1b[31mred:2)"));
        free(out);
        out = write_and_read(&p, FT_FMT_PPROF, per_thread, dir, &len);
        CHECK(out && !memmem(out, len, "esc\x1b", 4) && memmem(out, len, "new\\x0aline", 11));
        free(out);
        out = write_and_read(&p, FT_FMT_SPEEDSCOPE, per_thread, dir, &len);
        CHECK(out && clean_text(out) && strstr(out, "\"bad\\ufffd\\ufffd\""));
        free(out);
        out = write_and_read(&p, FT_FMT_CHROME, per_thread, dir, &len);
        CHECK(out && clean_text(out) && strstr(out, "\"new\\u000aline\""));
        free(out);
    }
    ft_profile_free(&p);
}

/* One caller with 20000 children: totals add up and every child is found. */
static void test_wide_tree(void)
{
    struct ft_profile p;
    ft_profile_init(&p, 0);
    uint32_t th = ft_profile_thread(&p, 1, "t");
    uint32_t top = ft_profile_func(&p, "caller", "c.py", 1);
    for (int i = 0; i < 20000; i++) {
        char name[32];
        snprintf(name, sizeof name, "gen_%d", i);
        struct ft_loc locs[2] = {{ft_profile_func(&p, name, "<string>", i), 1}, {top, 2}};
        uint32_t st = ft_profile_stack(&p, locs, 2, 0);
        ft_profile_add(&p, th, st, 1);
        ft_profile_add(&p, th, st, 2);
    }
    struct ft_tree t;
    ft_tree_build(&t, &p, 1, NULL);
    CHECK_EQ_INT(t.n, 1 + 1 + 1 + 20000);   /* root, thread, caller, children */
    CHECK_EQ_INT(t.v[0].total, 40000);
    uint32_t caller = t.v[t.v[0].first_child].first_child;
    size_t kids = 0;
    uint64_t sum = 0;
    for (uint32_t c = t.v[caller].first_child; c; c = t.v[c].next_sibling, kids++)
        sum += t.v[c].self;
    CHECK_EQ_INT(kids, 20000);
    CHECK_EQ_INT(sum, 40000);
    ft_tree_free(&t);
    ft_profile_free(&p);
}

static void test_progress(void)
{
    FILE *f = tmpfile();
    struct ft_progress pg;
    ft_progress_begin(&pg, "out\x1b.svg", f);
    pg.threshold_ns = 0;
    for (int i = 0; i < 1024; i++)
        ft_progress_step(&pg, (uint64_t)i, 2048);
    ft_progress_end(&pg);
    char buf[256] = {0};
    rewind(f);
    CHECK(fread(buf, 1, sizeof buf - 1, f) > 0);
    CHECK(strstr(buf, "frametap: writing out\\x1b.svg: ") != NULL);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/ft-unit-output-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_text_rule();
    test_json_and_xml();
    test_format_names();
    test_output_check(dir);
    test_collapsed_merges_threads(dir);
    test_truncated_marker(dir);
    test_hostile_names(dir);
    test_wide_tree();
    test_progress();
    rmdir(dir);
    return check_report("output");
}
