/*
 * record.c - `frametap record`: sample a process (or a command it starts)
 * at a fixed rate until it exits, the duration ends or Ctrl-C, then write
 * the profile. Shows a live status line on a terminal and a summary at the
 * end. Never writes to the target; --blocking pauses it around each sample.
 */
#include "../output/profile_format.h"
#include "../profile/procset.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "commands.h"
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATUS_EVERY_NS 250000000ull

static volatile sig_atomic_t stop_requested;

#define GROUPS (FT_OPTS_SAMPLING | FT_OPTS_DURATION | FT_OPTS_PID)

static void record_help(FILE *f)
{
    fprintf(f,
        "usage: frametap record [options] PID\n"
        "       frametap record [options] -- COMMAND [ARGS...]\n\n"
        "Samples the Python stacks of a running process (or of COMMAND, started by\n"
        "frametap) until it exits, --duration ends, or Ctrl-C; then writes a profile.\n\n"
        "options:\n");
    ft_opts_help(f, GROUPS);
    fprintf(f,
        "  -o, --output FILE      where to write (default frametap-PID.svg); give it\n"
        "                         several times to write several formats at once\n"
        "  -f, --format FMT       svg, speedscope, collapsed, pprof or chrome\n"
        "                         (default: from each file's extension, else svg):\n"
        "                         .svg .json .speedscope.json .txt .collapsed .folded\n"
        "                         .pb.gz .pprof .trace.json .chrome.json\n"
        "  -t, --threads          one root per thread in the output\n"
        "  -s, --subprocesses     also sample child processes that run Python\n"
        "                         (multiprocessing workers, subprocess calls)\n"
        "  -n, --native           C frames too, merged with the Python frames (the\n"
        "                         interpreter's own call plumbing left out). PAUSES THE\n"
        "                         WHOLE PROCESS for each sample (as --blocking; see\n"
        "                         README, Pausing); not with --nonblocking\n"
        "  -h, --help             this text\n\n"
        "examples:\n"
        "  frametap record -o profile.svg 1234\n"
        "  frametap record -r 1000 -d 30 -o out.speedscope.json --mode wall 1234\n"
        "  frametap record -o app.pb.gz -- python3 app.py --serve\n"
        "  go tool pprof -top app.pb.gz\n");
}

#define MAX_OUTPUTS 8

struct record_opts {
    struct ft_run_opts run;
    const char *outputs[MAX_OUTPUTS];
    int noutputs;
    int have_format;
    enum ft_format format;
    int per_thread, subprocesses;
};

static int own_option(int c, struct record_opts *o)
{
    switch (c) {
    case 'o':
        if (o->noutputs == MAX_OUTPUTS) {
            fprintf(stderr, "frametap record: at most %d --output files\n", MAX_OUTPUTS);
            return -1;
        }
        o->outputs[o->noutputs++] = optarg;
        return 0;
    case 'f':
        if (ft_format_parse(optarg, &o->format) < 0) {
            fprintf(stderr, "frametap record: --format takes %s, not '%s'\n", ft_format_names(),
                    optarg);
            return -1;
        }
        o->have_format = 1;
        return 0;
    case 't': o->per_thread = 1; return 0;
    case 's': o->subprocesses = 1; return 0;
    case 'n': o->run.sample.native = 1; return 0;
    case 'h': record_help(stdout); return 1;
    }
    return 2;
}

/* Every output is checked before sampling starts (format known, directory
 * there and writable): a recording is never lost to a typo at the end. */
static int check_outputs(const struct record_opts *o)
{
    for (int i = 0; i < o->noutputs; i++) {
        char why[512];
        if (ft_output_check(o->outputs[i], o->have_format, o->format, why, sizeof why) < 0) {
            fprintf(stderr, "frametap record: %s\n", why);
            return -1;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct record_opts *o)
{
    static const struct option own[] = {
        {"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
        {"threads", no_argument, 0, 't'},      {"subprocesses", no_argument, 0, 's'},
        {"native", no_argument, 0, 'n'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct ft_optparser p;
    memset(o, 0, sizeof *o);
    ft_opts_defaults(&o->run);
    ft_opts_init(&p, "record", GROUPS, own, "o:f:tsnh");
    int c;
    while ((c = ft_opts_next(&p, argc, argv)) != -1) {
        int rc = ft_opts_shared(&p, c, optarg, &o->run);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        rc = own_option(c, o);
        if (rc == 2)
            return ft_opts_unknown(&p, argv);
        if (rc)
            return rc;
    }
    if (ft_opts_target(&p, argc, argv, &o->run) < 0)
        return -1;
    if (o->run.sample.native && o->run.sample.pause == FT_PAUSE_NEVER) {
        fprintf(stderr, "frametap record: --native needs the threads stopped for the instant of "
                "each sample: drop --nonblocking\n");
        return -1;
    }
    return check_outputs(o);
}

struct run_state {
    uint64_t start, last_status;
    int live;
    int timed_out;           /* --duration ended the sampling */
    int command_ended;       /* its exit status is collected */
};

static void status_line(const struct ft_procset *set, struct run_state *st, uint64_t now, int final)
{
    if (!st->live || (!final && now - st->last_status < STATUS_EVERY_NS))
        return;
    st->last_status = now;
    uint64_t samples, errors, rounds;
    ft_procset_totals(set, &samples, &errors, &rounds);
    double secs = (double)(now - st->start) / 1e9;
    fprintf(stderr, "\rframetap: %.1fs  %llu samples  %.0f rounds/s  %llu errors  %zu threads  %zu processes   %s",
            secs, (unsigned long long)samples, secs > 0 ? (double)rounds / secs : 0.0,
            (unsigned long long)errors, set->profile->nthreads, set->n, final ? "\n" : "");
}

/* The interval +-50%, uniformly: a fixed period locks onto periodic work
 * and sees the same phases of it for long stretches (+-10% was measured to
 * skew 50/30/20 shares by 3 points); the mean stays the requested rate. */
static uint64_t jittered(uint64_t interval, uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return interval ? interval / 2 + *seed % interval : interval;
}

/* Below this much waiting, spinning is more precise than sleeping. */
#define SPIN_BELOW_NS 20000ull

static void sleep_until(uint64_t t)
{
    uint64_t now = ft_now_ns();
    if (t <= now)
        return;
    if (t - now < SPIN_BELOW_NS) {
        while (ft_now_ns() < t && !stop_requested)
            ;
        return;
    }
    struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_requested)
        ;
}

/* Says, once per sampled process, what is sampled and how. */
static void announce(const struct ft_procset *set, size_t *announced, const struct record_opts *o)
{
    for (; *announced < set->n; (*announced)++) {
        const struct ft_target *t = set->v[*announced];
        const char *why;
        ft_pause_policy(o->run.sample.pause, &t->session.rt.layout, &why);
        if (t->session.wasm) {
            fprintf(stderr, "\rframetap: sampling %s (pid %d, linear memory at 0x%llx): the whole "
                    "process is paused for the instant of each sample\n", t->session.label,
                    (int)t->session.proc.pid, (unsigned long long)t->session.wasm_rt.base);
            continue;
        }
        if (*announced || !set->root_is_target)
            fprintf(stderr, "\rframetap: sampling pid %d (%s, Python %s)\n", (int)t->session.proc.pid,
                    t->session.proc.comm, t->session.version);
        if (why)
            fprintf(stderr, "frametap: CPython %s: %s\n", t->session.version, why);
    }
}

/* Samples until stop. Returns 0 when the target ended or time ran out. */
static int sample_loop(struct ft_procset *set, const struct record_opts *o, pid_t child,
                       int *child_status, struct run_state *st, size_t *announced)
{
    uint64_t interval = (uint64_t)(1e9 / o->run.rate);
    uint64_t next = ft_now_ns(), seed = next | 1;
    st->start = next;
    while (!stop_requested) {
        uint64_t now = ft_now_ns();
        if (o->run.duration > 0 && (double)(now - st->start) >= o->run.duration * 1e9) {
            st->timed_out = 1;
            break;
        }
        int rc = ft_procset_round(set, now);
        announce(set, announced, o);
        if (rc > 0)
            break;
        if (rc < 0)
            return -1;
        if (ft_child_exited(child, child_status)) {
            st->command_ended = 1;
            break;
        }
        status_line(set, st, now, 0);
        next += jittered(interval, &seed);
        if (next <= now)
            next = now; /* behind: do not burst to catch up */
        else
            sleep_until(next);
    }
    return 0;
}

static const char *pause_words(enum ft_pause p)
{
    static const char *words[] = {[FT_PAUSE_AUTO] = "?", [FT_PAUSE_NEVER] = "never paused",
                                  [FT_PAUSE_FALLBACK] = "paused only for stacks that kept changing",
                                  [FT_PAUSE_RUNNING] = "running threads paused per sample",
                                  [FT_PAUSE_ALL] = "paused per sample"};
    return words[p];
}

static void summary(const struct ft_procset *set, const struct record_opts *o, const struct run_state *st)
{
    uint64_t samples, errors, rounds;
    ft_procset_totals(set, &samples, &errors, &rounds);
    double secs = (double)(ft_now_ns() - st->start) / 1e9;
    fprintf(stderr, "frametap: %.2f s, %llu samples (%.1f rounds/s of %.0f requested), "
            "%.2f%% errors, %zu threads in %zu process%s, mode %s, %s\n",
            secs, (unsigned long long)samples, secs > 0 ? (double)rounds / secs : 0.0, o->run.rate,
            samples + errors ? 100.0 * (double)errors / (double)(samples + errors) : 0.0,
            set->profile->nthreads, set->n, set->n == 1 ? "" : "es", ft_sample_mode_name(o->run.sample.mode),
            set->n ? pause_words(set->v[0]->sampler.pause) : "nothing sampled");
    if (set->profile->truncated_samples)
        fprintf(stderr, "frametap: %llu samples had stacks deeper than %d frames: their outermost "
                "frames are cut, marked <truncated at %d frames>\n",
                (unsigned long long)set->profile->truncated_samples, FT_MAX_DEPTH, FT_MAX_DEPTH);
    uint64_t held = 0;
    for (size_t i = 0; i < set->n; i++)
        held += set->v[i]->sampler.paused_reads;
    if (held && set->v[0]->sampler.pause == FT_PAUSE_FALLBACK) /* held: set->n > 0 */
        fprintf(stderr, "frametap: %llu samples (%.2f%%) read with their thread held for an "
                "instant: its stack changed under every running read\n", (unsigned long long)held,
                samples ? 100.0 * (double)held / (double)samples : 0.0);
    uint64_t unmerged = 0;
    for (size_t i = 0; i < set->n; i++)
        unmerged += set->v[i]->sampler.native_unmerged;
    if (unmerged)
        fprintf(stderr, "frametap: %llu samples kept without their C frames: the native stack "
                "could not be read or merged with the Python frames (see dump --native)\n",
                (unsigned long long)unmerged);
    if (errors) {
        struct ft_err_tally causes;
        ft_procset_causes(set, &causes);
        fprintf(stderr, "frametap: error samples by cause (none of them written as a stack):\n");
        ft_tally_print(stderr, "frametap: ", &causes);
    }
}

static enum ft_format format_for(const struct record_opts *o, const char *path)
{
    enum ft_format f = FT_FMT_SVG;
    if (o->have_format)
        return o->format;
    ft_format_from_path(path, &f);
    return f;
}

static int wants_timeline(const struct record_opts *o)
{
    for (int i = 0; i < o->noutputs; i++)
        if (format_for(o, o->outputs[i]) == FT_FMT_CHROME)
            return 1;
    return 0;
}

static int finish(struct ft_procset *set, struct record_opts *o, struct run_state *st, int pid)
{
    static char default_path[64];
    char title[256];
    if (o->noutputs == 0) {
        snprintf(default_path, sizeof default_path, "frametap-%d.svg", pid);
        o->outputs[o->noutputs++] = default_path;
    }
    const struct ft_target *first = ft_procset_first(set);
    if (o->run.command)
        snprintf(title, sizeof title, "%s (pid %d)", o->run.command[0], pid);
    else
        snprintf(title, sizeof title, "%s (pid %d)", first ? first->session.proc.comm : "?", pid);
    struct ft_write_opts wo = {o->per_thread, title, ft_sample_mode_name(o->run.sample.mode),
                               (uint64_t)(1e9 / o->run.rate)};
    status_line(set, st, ft_now_ns(), 1);
    summary(set, o, st);
    int rc = 0;
    for (int i = 0; i < o->noutputs; i++) {
        enum ft_format f = format_for(o, o->outputs[i]);
        if (ft_write_profile(o->outputs[i], f, set->profile, &wo) < 0) {
            rc = ft_report_error(); /* the other outputs are still written */
            continue;
        }
        fprintf(stderr, "frametap: wrote %s (%s)\n", o->outputs[i], ft_format_name(f));
    }
    return rc;
}

/* The launched command's exit status as a shell gives it (128 + signal). */
static int command_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

/* After sampling: a command frametap started is waited for, and its exit
 * status becomes frametap's (unless frametap itself failed). */
static int wait_for_command(pid_t child, int *status, const struct record_opts *o,
                            const struct run_state *st, int rc)
{
    if (child <= 0)
        return rc;
    if (!st->command_ended && !ft_child_exited(child, status)) {
        if (st->timed_out && !stop_requested)
            fprintf(stderr, "frametap: sampling stopped after %g s; %s (pid %d) goes on: waiting "
                    "for it to exit (Ctrl-C stops waiting)\n", o->run.duration, o->run.command[0],
                    (int)child);
        int waited = ft_wait_child(child, status, &stop_requested);
        if (waited == 0) {
            fprintf(stderr, "frametap: %s (pid %d) is still running\n", o->run.command[0], (int)child);
            return rc ? rc : 130;
        }
        if (waited < 0) {
            fprintf(stderr, "frametap: %s (pid %d) ended, but its exit status could not be "
                    "collected\n", o->run.command[0], (int)child);
            return rc ? rc : 1;
        }
    }
    int crc = command_status(*status);
    if (WIFSIGNALED(*status))
        fprintf(stderr, "frametap: %s (pid %d) was killed by signal %d\n", o->run.command[0],
                (int)child, WTERMSIG(*status));
    else if (crc)
        fprintf(stderr, "frametap: %s (pid %d) exited with status %d\n", o->run.command[0],
                (int)child, crc);
    return rc ? rc : crc;
}

int ft_cmd_record(int argc, char **argv)
{
    struct record_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : FT_E_USAGE;
    ft_stop_on_signals(&stop_requested);
    ft_error_clear();
    pid_t child = 0;
    int child_status = 0;
    struct ft_session ses;
    struct ft_session *wasm = NULL;
    int opened = ft_attach_or_launch(&ses, o.run.pid, o.run.command, &child, o.subprocesses);
    int nwasm = opened < 0 && !o.run.command ? ft_attach_wasm(o.run.pid, &o.run.sample, &wasm) : 0;
    if (nwasm > 0) {
        ses = wasm[0]; /* copied again (and its reader rebound) by the procset */
        opened = 0;
    }
    if (opened < 0) {
        /* a command frametap started is stopped by now: its error stands */
        rc = o.run.command ? ft_report_error() : ft_report_error_for(o.run.pid);
        if (rc == FT_E_NOTPY && !o.subprocesses && o.run.pid)
            fprintf(stderr, "frametap: (if it starts Python in child processes, add --subprocesses)\n");
        return rc;
    }
    int pid = o.run.command ? (int)child : o.run.pid;
    struct ft_profile prof;
    struct ft_procset set;
    ft_profile_init(&prof, wants_timeline(&o));
    struct run_state st = {.live = isatty(2)};
    if (ft_procset_init(&set, pid, opened == 0 ? &ses : NULL, &prof, &o.run.sample, o.subprocesses) < 0) {
        if (opened == 0)
            ft_session_close(&ses);
        for (int i = 1; i < nwasm; i++)
            ft_session_close(&wasm[i]);
        free(wasm);
        ft_profile_free(&prof);
        return ft_report_error();
    }
    for (int i = 1; i < nwasm; i++) /* every other runtime of the process, into the same profile */
        if (ft_procset_add(&set, &wasm[i]) < 0)
            ft_session_close(&wasm[i]);
    free(wasm);
    struct ft_session *rest;
    int nrest = ft_launch_take_wasm(&rest); /* the same for a launched command */
    for (int i = 0; i < nrest; i++)
        if (ft_procset_add(&set, &rest[i]) < 0)
            ft_session_close(&rest[i]);
    free(rest);
    if (opened == 1)
        fprintf(stderr, "frametap: pid %d runs no Python: sampling the Python processes it starts\n",
                pid);
    size_t announced = 0;
    rc = sample_loop(&set, &o, child, &child_status, &st, &announced);
    int failed = rc < 0 ? ft_report_error_for(pid) : 0; /* why sampling ended early */
    if (failed)
        fprintf(stderr, "frametap: sampling ended early; writing what was collected\n");
    rc = finish(&set, &o, &st, pid);
    rc = wait_for_command(child, &child_status, &o, &st, failed ? failed : rc);
    ft_procset_free(&set);
    ft_profile_free(&prof);
    return rc;
}
