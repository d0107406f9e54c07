/*
 * top.c - `frametap top`: a live ncurses table of where time goes, fed by
 * the sampler. The screen is redrawn once a second (and on every key);
 * sampling goes on between redraws. Keys are read without blocking, so a
 * slow terminal never stalls sampling for long. Never writes to the target;
 * never draws a name from it unescaped (util/escape.h).
 */
#include "../profile/sampler.h"
#include "../profile/topstats.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "../util/strbuf.h"
#include "commands.h"
#include "options.h"

#include <getopt.h>
#include <locale.h>
#include <ncurses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_NS 1000000000ull

static volatile sig_atomic_t stop_requested;


#define GROUPS (FT_OPTS_SAMPLING | FT_OPTS_DURATION | FT_OPTS_PID)

static void top_help(FILE *f)
{
    fprintf(f,
        "usage: frametap top [options] PID\n"
        "       frametap top [options] -- COMMAND [ARGS...]\n\n"
        "A live table of the functions a Python process spends its time in.\n\n"
        "options:\n");
    ft_opts_help(f, GROUPS);
    fprintf(f,
        "  -h, --help             this text\n\n"
        "keys:\n"
        "  1 2 3 4 5   sort by %%Own, %%Total, OwnTime, TotalTime, Function\n"
        "  l           toggle function / line aggregation\n"
        "  t / T       next / previous thread (all threads first)\n"
        "  space       pause / resume        r  reset counts       q  quit\n\n"
        "examples:\n"
        "  frametap top 4242                      what pid 4242 runs, live\n"
        "  frametap top -m wall -r 200 4242       idle time too, 200 samples/s\n"
        "  frametap top -- python3 -m pydoc -k x  start a command and watch it\n");
}

struct view {
    enum ft_top_sort sort;
    int by_line, paused;
    int64_t thread;          /* index into profile threads, -1 for all */
};

static int parse_args(int argc, char **argv, struct ft_run_opts *o)
{
    static const struct option own[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct ft_optparser p;
    ft_opts_defaults(o);
    ft_opts_init(&p, "top", GROUPS, own, "h");
    int c;
    while ((c = ft_opts_next(&p, argc, argv)) != -1) {
        int rc = ft_opts_shared(&p, c, optarg, o);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        if (c != 'h')
            return ft_opts_unknown(&p, argv);
        top_help(stdout);
        return 1;
    }
    return ft_opts_target(&p, argc, argv, o);
}

static const char *sort_names[] = {"%Own", "%Total", "OwnTime", "TotalTime", "Function"};

/* s escaped by the text rule into sb (reset first): what is drawn of a name. */
static const char *shown(struct strbuf *sb, const char *s)
{
    sb->len = 0;
    ft_esc_text(sb, s, NULL);
    return sb->data ? sb->data : "";
}

static void draw_header(const struct ft_sampler *s, const struct view *v, double secs, int cols)
{
    const struct ft_profile *p = s->profile;
    double rate = secs > 0 ? (double)s->rounds / secs : 0;
    double errors = s->samples + s->errors ? 100.0 * (double)s->errors / (double)(s->samples + s->errors) : 0;
    double gil = s->rounds ? 100.0 * (double)s->gil_rounds / (double)s->rounds : 0;
    double active = s->thread_looks ? 100.0 * (double)s->running_looks / (double)s->thread_looks : 0;
    struct strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    mvprintw(0, 0, s->session->wasm ? "frametap top  pid %d (%s)  [%s]%s" : "frametap top  pid %d (%s)  Python %s%s",
             (int)s->session->proc.pid, shown(&a, s->session->proc.comm),
             shown(&b, s->session->wasm ? s->session->label : s->session->version),
             v->paused ? "  [PAUSED]" : "");
    mvprintw(1, 0, "Samples %llu  Rate %.0f/s  Errors %.2f%%  Threads %zu  GIL %.0f%%  Active %.0f%%",
             (unsigned long long)s->samples, rate, errors, s->nthreads, gil, active);
    if (v->thread < 0)
        mvprintw(2, 0, "Thread: all   Sort: %s   By: %s", sort_names[v->sort], v->by_line ? "line" : "function");
    else
        mvprintw(2, 0, "Thread: %lld (%s)   Sort: %s   By: %s", (long long)p->threads[v->thread].native_id,
                 shown(&a, p->threads[v->thread].name), sort_names[v->sort],
                 v->by_line ? "line" : "function");
    sb_free(&a);
    sb_free(&b);
    attron(A_REVERSE);
    mvprintw(4, 0, "%-*s", cols, "  %Own  %Total  OwnTime  TotalTime  Function (file:line)");
    attroff(A_REVERSE);
}

static void draw_rows(const struct ft_sampler *s, const struct ft_top *t, double interval, int rows, int cols)
{
    struct strbuf label;
    sb_init(&label);
    for (size_t i = 0; i < t->n && (int)i + 5 < rows; i++) {
        const struct ft_top_row *r = &t->rows[i];
        const struct ft_func *f = &s->profile->funcs[r->key.func];
        label.len = 0;
        ft_esc_text(&label, f->qualname, NULL);
        if (!ft_func_is_marker(f)) {
            sb_puts(&label, " (");
            ft_esc_text(&label, f->file, NULL);
            sb_printf(&label, ":%d)", r->key.line >= 0 ? r->key.line : f->firstlineno);
        }
        double own = t->samples ? 100.0 * (double)r->own / (double)t->samples : 0;
        double total = t->samples ? 100.0 * (double)r->total / (double)t->samples : 0;
        mvprintw((int)i + 5, 0, "%6.1f  %6.1f  %6.2fs  %8.2fs  %.*s", own, total,
                 (double)r->own * interval, (double)r->total * interval, cols > 38 ? cols - 38 : 0,
                 label.data);
    }
    sb_free(&label);
}

static void draw(const struct ft_sampler *s, const struct view *v, double interval, double secs)
{
    struct ft_top t = {0};
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    ft_top_compute(&t, s->profile, v->thread < 0 ? UINT32_MAX : (uint32_t)v->thread, v->by_line);
    ft_top_sort(&t, s->profile, v->sort);
    draw_header(s, v, secs, cols);
    draw_rows(s, &t, interval, rows, cols);
    mvprintw(rows - 1, 0, "1-5 sort  l lines  t/T thread  space pause  r reset  q quit");
    refresh();
    ft_top_free(&t);
}

/* Applies one key; returns 1 to quit. */
static int on_key(int ch, struct view *v, struct ft_sampler *s)
{
    int nthreads = (int)s->profile->nthreads;
    switch (ch) {
    case 'q': case 'Q': return 1;
    case '1': case '2': case '3': case '4': case '5': v->sort = (enum ft_top_sort)(ch - '1'); break;
    case 'l': case 'L': v->by_line = !v->by_line; break;
    case 't': v->thread = v->thread + 1 >= nthreads ? -1 : v->thread + 1; break;
    case 'T': v->thread = v->thread < 0 ? nthreads - 1 : v->thread - 1; break;
    case ' ': v->paused = !v->paused; break;
    case 'r': case 'R': {
        /* Threads keep their profile slots: clear counts, not the thread table. */
        struct ft_profile *p = s->profile;
        p->ncounts = 0;
        memset(p->count_index, 0, p->count_index_cap * sizeof *p->count_index);
        p->total_samples = 0;
        s->samples = s->errors = s->rounds = s->gil_rounds = 0;
        s->thread_looks = s->running_looks = 0;
        break;
    }
    default: break;
    }
    return 0;
}

static void run(struct ft_sampler *s, const struct ft_run_opts *o, pid_t child)
{
    struct view v = {FT_SORT_OWN_PCT, 0, 0, -1};
    uint64_t interval = (uint64_t)(1e9 / o->rate), start = ft_now_ns(), next = start, redraw = 0;
    int status;
    while (!stop_requested) {
        uint64_t now = ft_now_ns();
        if (o->duration > 0 && (double)(now - start) >= o->duration * 1e9)
            break;
        if (!v.paused && ft_sampler_round(s, now) < 0)
            break;
        if (child > 0 && waitpid(child, &status, WNOHANG) == child)
            break;
        int ch, quit = 0, redraw_now = now >= redraw;
        while (!quit && (ch = getch()) != ERR) {
            if (ch != KEY_RESIZE)
                quit = on_key(ch, &v, s);
            redraw_now = 1;
        }
        if (quit)
            break;
        if (redraw_now) {
            draw(s, &v, (double)interval / 1e9, (double)(now - start) / 1e9);
            redraw = now + REDRAW_NS;
        }
        next += interval;
        if (next < now)
            next = now;
        struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

int ft_cmd_top(int argc, char **argv)
{
    struct ft_run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : FT_E_USAGE;
    if (!isatty(1)) {
        fprintf(stderr, "frametap: top needs a terminal; use 'frametap record' to write a profile\n");
        return FT_E_USAGE;
    }
    ft_stop_on_signals(&stop_requested);
    ft_error_clear();
    pid_t child = 0;
    struct ft_session ses;
    if (ft_attach_or_launch(&ses, o.pid, o.command, &child, 0) < 0) {
        /* a process running CPython in WebAssembly: its first runtime */
        struct ft_session *wasm = NULL;
        int nwasm = o.command ? 0 : ft_attach_wasm(o.pid, &o.sample, &wasm);
        if (nwasm <= 0)
            return ft_report_error_for(o.pid ? o.pid : (int)child);
        ses = wasm[0]; /* the reader points into its session: rebind after the copy */
        ses.reader.proc = &ses.proc;
        ses.reader.layout = &ses.rt.layout;
        for (int i = 1; i < nwasm; i++)
            ft_session_close(&wasm[i]);
        free(wasm);
        if (nwasm > 1)
            fprintf(stderr, "frametap: pid %d runs %d CPython runtimes in WebAssembly; top shows "
                    "the first (%s at 0x%llx); record samples them all\n", o.pid, nwasm, ses.label,
                    (unsigned long long)ses.wasm_rt.base);
    }
    struct ft_session *rest;
    int nrest = ft_launch_take_wasm(&rest); /* a launched wasm host: top shows the first */
    for (int i = 0; i < nrest; i++)
        ft_session_close(&rest[i]);
    free(rest);
    struct ft_profile prof;
    struct ft_sampler s;
    ft_profile_init(&prof, 0);
    if (ft_sampler_init(&s, &ses, &prof, &o.sample) < 0) {
        ft_session_close(&ses);
        return ft_report_error();
    }
    s.track_activity = 1;
    setlocale(LC_ALL, "");
    initscr();
    cbreak();
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    run(&s, &o, child);
    endwin();
    rc = ft_error_kind() && ft_error_kind() != FT_E_EXITED ? ft_report_error() : 0;
    if (child > 0) {
        int status;
        kill(child, SIGTERM);
        ft_wait_child(child, &status, NULL);
    }
    ft_sampler_free(&s);
    ft_profile_free(&prof);
    ft_session_close(&ses);
    return rc;
}
