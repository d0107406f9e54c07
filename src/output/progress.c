/*
 * progress.c - see progress.h. On a terminal one line is rewritten four
 * times a second; elsewhere a line is printed every five seconds. The file
 * name is escaped like every other name frametap prints.
 */
#include "progress.h"

#include "../util/escape.h"

#include <time.h>
#include <unistd.h>

#define TTY_EVERY_NS 250000000ull
#define LOG_EVERY_NS 5000000000ull

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ft_progress_begin(struct ft_progress *pg, const char *what, FILE *out)
{
    pg->what = what;
    pg->out = out;
    pg->start_ns = mono_ns();
    pg->threshold_ns = 1000000000ull;
    pg->next_ns = 0;
    pg->calls = 0;
    pg->shown = 0;
    pg->tty = isatty(fileno(out));
}

static void show(struct ft_progress *pg, unsigned percent, uint64_t now)
{
    fputs(pg->tty ? "\rframetap: writing " : "frametap: writing ", pg->out);
    ft_esc_text_file(pg->out, pg->what);
    fprintf(pg->out, ": %u%% after %.1f s%s", percent, (double)(now - pg->start_ns) / 1e9,
            pg->tty ? "" : "\n");
    fflush(pg->out);
    pg->shown = 1;
    pg->next_ns = now + (pg->tty ? TTY_EVERY_NS : LOG_EVERY_NS);
}

void ft_progress_step(struct ft_progress *pg, uint64_t done, uint64_t total)
{
    if (!pg || (pg->calls++ & 255) != 0)
        return;
    uint64_t now = mono_ns();
    if (now - pg->start_ns < pg->threshold_ns || now < pg->next_ns)
        return;
    show(pg, total ? (unsigned)(100 * (done < total ? done : total) / total) : 0, now);
}

void ft_progress_end(struct ft_progress *pg)
{
    if (pg->shown && pg->tty) {
        show(pg, 100, mono_ns());
        fputc('\n', pg->out);
    }
}
