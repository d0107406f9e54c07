/*
 * sampler.h - one sampling round over a target's threads, into a profile.
 *
 * The sampler owns the list of thread states (refreshed every 100 ms, not
 * every sample), picks which threads a round samples (--mode), reads their
 * stacks with one try each (a torn read is an error sample) through the
 * speculative reader of fastread.h, and folds the frames into struct
 * ft_profile. Timing (the rate) belongs to the caller.
 */
#ifndef FT_SAMPLER_H
#define FT_SAMPLER_H

#include "../cpython/fastread.h"
#include "../cpython/session.h"
#include "../cpython/walk.h"
#include "aggregate.h"
#include "oncpu.h"

struct ft_native;
#include "errtally.h"

enum ft_sample_mode { FT_MODE_CPU, FT_MODE_WALL, FT_MODE_GIL };

/* When the target is paused for a sample. AUTO resolves per version to
 * FALLBACK on 3.14+ (read running; a running thread whose stack changed
 * under every try is paused for the instant of one read) or RUNNING on
 * 3.8-3.13 (each running thread paused for the instant of its read, since
 * copies of its frames cannot fully vouch for one moment there: see
 * ft_fastread_limit()). */
enum ft_pause { FT_PAUSE_AUTO, FT_PAUSE_NEVER, FT_PAUSE_FALLBACK, FT_PAUSE_RUNNING, FT_PAUSE_ALL };

/* How a recording samples: which threads, when the process is paused,
 * whether a stack's places are found afresh each time. */
struct ft_sample_opts {
    enum ft_sample_mode mode;
    enum ft_pause pause;
    int read_full;
    int native;                  /* C frames too (pauses the process for each sample) */
};

#define FT_SAMPLER_MAX_THREADS 1024
#define FT_SAMPLER_MAX_HOST 256

struct ft_stack_memo {
    struct ft_frame *frames;
    size_t n, cap;
    long gc;
    uint64_t decodes;            /* reader's decode count then: new code, no reuse */
    uint32_t stack;
};
#define FT_STACK_MEMOS 2

struct ft_sampled_thread {
    struct ft_tstate_ref ref;
    struct ft_oncpu cpu;         /* is it on a CPU: for --mode cpu, and to hold running threads */
    struct ft_fastread *fast;    /* where this thread's frames were last time */
    int running;                 /* on a CPU when this round looked */
    /* the last stacks recorded, most recent first, to skip interning an
     * unchanged one (two: a loop's top frame often moves between two lines) */
    struct ft_stack_memo memo[FT_STACK_MEMOS];
    uint32_t profile_thread;
};

struct ft_sampler {
    struct ft_session *session;
    struct ft_profile *profile;
    enum ft_sample_mode mode;
    enum ft_pause pause;         /* resolved: never, running threads, or all */
    int read_full;               /* forget the places of each stack after reading it */
    struct ft_sampled_thread threads[FT_SAMPLER_MAX_THREADS];
    size_t nthreads;
    uint64_t next_refresh_ns;
    uint64_t rounds, samples, errors;
    uint64_t read_misses;        /* stack reads that needed more than one syscall */
    uint64_t list_failures;      /* thread-list walks that kept tearing (old list kept) */
    struct ft_err_tally causes;  /* error samples by cause */
    uint64_t paused_reads;       /* samples of one thread read while it was held */
    int track_activity;          /* count GIL and on-CPU shares (for top) */
    int label_pid;               /* name threads "name [pid N]" (child processes) */
    uint64_t gil_rounds;         /* rounds in which some thread held a GIL */
    uint64_t thread_looks, running_looks; /* threads seen per round / of them on a CPU */
    struct ft_loc *locs;         /* scratch for converting one stack */
    struct ft_thread_name *names; /* threading's names, ident -> name */
    size_t nnames;
    uint64_t next_names_ns;
    struct ft_native *native;    /* record --native: the libdwfl session, else NULL */
    /* a runtime in a wasm memory: its guest thread is one of the host's,
     * not told apart from the others, so "on a CPU" is any host thread
     * running (stat files of the host's threads, refreshed with the list) */
    int host_fds[FT_SAMPLER_MAX_HOST];
    size_t nhost;
    int host_running;            /* this round */
    uint64_t native_unmerged;    /* samples kept without their C frames (not merged) */
};

/* "cpu", "wall", "gil" <-> enum; parse returns 0 or -1. */
const char *ft_sample_mode_name(enum ft_sample_mode m);
int ft_sample_mode_parse(const char *name, enum ft_sample_mode *out);

int ft_sampler_init(struct ft_sampler *s, struct ft_session *session, struct ft_profile *profile,
                    const struct ft_sample_opts *opts);
/* AUTO resolved for a target's version; *why gets a sentence for the user
 * when threads will be paused although no --blocking was given. */
enum ft_pause ft_pause_policy(enum ft_pause asked, const struct ft_layout *l, const char **why);
void ft_sampler_free(struct ft_sampler *s);
/* One round at time now_ns. Returns 0, or -1 if the process is gone or can
 * no longer be read (ft_fail set). */
int ft_sampler_round(struct ft_sampler *s, uint64_t now_ns);

uint64_t ft_now_ns(void);

#endif
