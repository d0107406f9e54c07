/*
 * tasks.c - `frametap tasks`: attach, read every asyncio task (name,
 * coroutine stack, who awaits it) once, print them as a tree or JSON.
 * Like dump, the target is paused for the instant of the read unless
 * --nonblocking; it is never written to and nothing runs in it.
 */
#include "../cpython/session.h"
#include "../cpython/tasks.h"
#include "../output/tasks_format.h"
#include "../target/pause.h"
#include "../util/error.h"
#include "commands.h"
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void tasks_help(FILE *f)
{
    fprintf(f,
        "usage: frametap tasks [--json] [--nonblocking] PID | --pid PID\n\n"
        "Prints the asyncio tasks of process PID as a tree of who awaits whom, the way\n"
        "'python3.14 -m asyncio pstree PID' draws it: each task with its name, its\n"
        "coroutine stack, and under it the tasks it awaits. Works on CPython 3.8 to\n"
        "3.15 from outside: on 3.14+ from the interpreter's own task lists (the\n"
        ".AsyncioDebug offsets the target publishes); on 3.8-3.13 from asyncio's task\n"
        "registry, where who awaits whom is inferred (a task awaited directly, through\n"
        "gather() or by a TaskGroup). Never writes to the process or runs code in it.\n\n"
        "options:\n"
        "  --json                 one JSON object instead of the tree\n"
        "  --nonblocking          do not pause the process while reading\n"
        "  -p, --pid PID          the process (the same as giving PID last)\n"
        "  -h, --help             this text\n\n"
        "examples:\n"
        "  frametap tasks 1234\n"
        "  frametap tasks --json 1234 | jq '.tasks[] | {name, awaited_by}'\n\n"
        "needs: permission to ptrace PID (same user, root, or CAP_SYS_PTRACE).\n");
}

struct tasks_opts {
    int json, nonblocking, pid;
    const char *pid_opt;
};

static int parse_args(int argc, char **argv, struct tasks_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'},
        {"nonblocking", no_argument, 0, 'n'},
        {"pid", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = 1; break;
        case 'n': o->nonblocking = 1; break;
        case 'p': o->pid_opt = optarg; break;
        case 'h': tasks_help(stdout); return 1;
        default:
            fprintf(stderr, "frametap: unknown option '%s' for tasks (see 'frametap tasks --help')\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    o->pid = ft_opts_one_pid("tasks", o->pid_opt, argc, argv, optind);
    return o->pid ? 0 : -1;
}

#define RUNNING_TRIES 5               /* reads of a running process that tore */

/* Paused: one read. Running: lists and sets change under the read, so a
 * read that met inconsistent data is made again, a few times. */
static int take(struct ft_session *s, const struct tasks_opts *o, struct ft_tasks *t)
{
    if (!o->nonblocking && ft_proc_pause(&s->proc) < 0)
        return -1;
    int rc = -1;
    for (int i = 0; rc < 0 && i < (o->nonblocking ? RUNNING_TRIES : 1); i++) {
        if (i && ft_error_kind() != FT_E_CORRUPT)
            break;
        ft_error_clear();
        ft_code_cache_sweep(s->reader.codes);
        rc = ft_tasks_read(&s->reader, &s->rt, t);
        if (rc < 0)
            ft_tasks_free(t);
    }
    ft_proc_resume(&s->proc);
    return rc;
}

int ft_cmd_tasks(int argc, char **argv)
{
    struct tasks_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : FT_E_USAGE;
    struct ft_session s;
    ft_error_clear();
    if (ft_session_open(&s, o.pid, FT_DISC_AUTO) < 0)
        return ft_report_error_for(o.pid);
    struct ft_tasks t;
    if (take(&s, &o, &t) < 0) {
        rc = ft_report_error_for(o.pid);
        ft_session_close(&s);
        return rc;
    }
    struct ft_dump_header h = ft_dump_header_of(&s, !o.nonblocking);
    struct strbuf out;
    sb_init(&out);
    (o.json ? ft_tasks_json : ft_tasks_text)(&out, &h, &t);
    fwrite(out.data, 1, out.len, stdout);
    sb_free(&out);
    ft_tasks_free(&t);
    ft_session_close(&s);
    return 0;
}
