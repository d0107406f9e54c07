/*
 * formats.c - profile format names, their spellings and file extensions,
 * and the check `record` makes on every output before it samples. Never
 * guesses: an unknown name or extension is an error that lists the known ones.
 */
#include "profile_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A word that stands for a format: a --format name or a file extension. */
struct format_word {
    const char *word;
    enum ft_format f;
};

static const struct format_word formats[] = {
    {"svg", FT_FMT_SVG},     {"speedscope", FT_FMT_SPEEDSCOPE}, {"collapsed", FT_FMT_COLLAPSED},
    {"pprof", FT_FMT_PPROF}, {"chrome", FT_FMT_CHROME},
    /* other spellings, after the canonical names (ft_format_name picks the first) */
    {"flamegraph", FT_FMT_SVG}, {"raw", FT_FMT_COLLAPSED},
};

/* Longest suffixes first: ".trace.json" must win over ".json". */
static const struct format_word extensions[] = {
    {".trace.json", FT_FMT_CHROME}, {".chrome.json", FT_FMT_CHROME}, {".pb.gz", FT_FMT_PPROF},
    {".pprof", FT_FMT_PPROF},       {".speedscope.json", FT_FMT_SPEEDSCOPE},
    {".json", FT_FMT_SPEEDSCOPE},   {".svg", FT_FMT_SVG},       {".collapsed", FT_FMT_COLLAPSED},
    {".folded", FT_FMT_COLLAPSED},  {".txt", FT_FMT_COLLAPSED},
};

#define COUNT(a) (sizeof a / sizeof a[0])

int ft_format_parse(const char *name, enum ft_format *out)
{
    for (size_t i = 0; i < COUNT(formats); i++)
        if (!strcmp(name, formats[i].word)) {
            *out = formats[i].f;
            return 0;
        }
    return -1;
}

const char *ft_format_name(enum ft_format f)
{
    for (size_t i = 0; i < COUNT(formats); i++)
        if (formats[i].f == f)
            return formats[i].word;
    return "?";
}

const char *ft_format_names(void)
{
    return "svg (or flamegraph), speedscope, collapsed (or raw), pprof, chrome";
}

const char *ft_format_extensions(void)
{
    return ".svg .json .speedscope.json .txt .collapsed .folded .pb.gz .pprof .trace.json .chrome.json";
}

int ft_format_from_path(const char *path, enum ft_format *out)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < COUNT(extensions); i++) {
        size_t n = strlen(extensions[i].word);
        if (len > n && !strcmp(path + len - n, extensions[i].word)) {
            *out = extensions[i].f;
            return 0;
        }
    }
    return -1;
}

/* The directory part of path ("." when there is none) into dir[n]. */
static int dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return snprintf(dir, n, ".") < (int)n ? 0 : -1;
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= n)
        return -1;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return 0;
}

/* shown: path escaped for the message. */
static int check_place(const char *path, const char *shown, char *why, size_t n)
{
    char dir[4096];
    struct stat st;
    if (dir_of(path, dir, sizeof dir) < 0) {
        snprintf(why, n, "output path is too long: %s", shown);
        return -1;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, n, "cannot write %s: its directory does not exist", shown);
        return -1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(why, n, "cannot write %s: its directory is not writable", shown);
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(why, n, "cannot write %s: it is a directory", shown);
        return -1;
    }
    if (stat(path, &st) == 0 && access(path, W_OK) < 0) {
        snprintf(why, n, "cannot write %s: %s", shown, strerror(errno));
        return -1;
    }
    return 0;
}

static int check(const char *path, const char *shown, int have_format, enum ft_format format,
                 char *why, size_t n)
{
    enum ft_format f;
    if (have_format && strcmp(ft_format_name(format), "?") == 0) {
        snprintf(why, n, "unknown format; known: %s", ft_format_names());
        return -1;
    }
    if (!have_format && ft_format_from_path(path, &f) < 0) {
        snprintf(why, n, "cannot tell the format of %s from its extension; known extensions: %s "
                 "(or give --format: %s)", shown, ft_format_extensions(), ft_format_names());
        return -1;
    }
    return check_place(path, shown, why, n);
}

int ft_output_check(const char *path, int have_format, enum ft_format format, char *why, size_t n)
{
    if (!path || !*path) {
        snprintf(why, n, "empty output file name");
        return -1;
    }
    struct strbuf shown;
    sb_init(&shown);
    ft_esc_text(&shown, path, NULL);
    int rc = check(path, shown.data, have_format, format, why, n);
    sb_free(&shown);
    return rc;
}
