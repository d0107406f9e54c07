/*
 * main.c - frametap's command dispatcher: picks the subcommand, nothing else.
 */
#include "../cpython/layout.h"
#include "../util/error.h"
#include "../target/procfs.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMETAP_VERSION "0.1.0"

static void usage(FILE *f)
{
    int oldest, newest;
    ft_layout_supported(&oldest, &newest);
    fprintf(f,
            "frametap %s - see what a running CPython (3.%d to 3.%d) is doing\n\n"
            "usage: frametap COMMAND [OPTIONS]\n\n"
            "commands:\n"
            "  dump PID       print every thread's Python stack, once\n"
            "  record PID     sample stacks into a flame graph, speedscope, pprof, ...\n"
            "  record -- CMD  start CMD and profile it until it exits\n"
            "  top PID        live table of where time goes\n"
            "  tasks PID      asyncio tasks: names, coroutine stacks, who awaits whom\n"
            "  trace -- PYTHON app.py  run a program with the in-process tracer: calls,\n"
            "                 lines, opcodes with their value stack, exceptions, gc, imports\n"
            "  probe --at FILE:LINE --log 'x={x}' (PID | -- PYTHON app.py)  non-breaking\n"
            "                 breakpoints: logpoints, snapshots, counters\n\n"
            "Run 'frametap COMMAND --help' for a command's options, 'frametap -V' for the\n"
            "version; the manual page is frametap.1 (man ./frametap.1).\n",
            FRAMETAP_VERSION, oldest, newest);
}

int ft_report_error_for(int pid)
{
    /* Data that stops making sense because the process is going away is an
     * exit, not corruption: say the useful thing. */
    enum ft_errkind k = ft_error_kind();
    int explainable = k == FT_E_CORRUPT || k == FT_E_NOTPY || k == FT_E_SYSTEM;
    if (pid > 0 && explainable && ft_proc_is_exiting(pid)) {
        ft_error_clear();
        ft_fail(FT_E_EXITED, "process %d exited while frametap was reading it", pid);
    }
    return ft_report_error();
}

int ft_report_error(void)
{
    fprintf(stderr, "frametap: %s\n", ft_error_message());
    int kind = (int)ft_error_kind();
    return kind ? kind : 1;
}

int ft_parse_pid(const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v <= 0 || v > 0x3fffffff) {
        fprintf(stderr, "frametap: '%s' is not a process id: give a positive number "
                "(see 'ps -ef' or 'pgrep python')\n", s ? s : "");
        return 0;
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return FT_E_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("frametap %s\n", FRAMETAP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "dump"))
        return ft_cmd_dump(argc - 1, argv + 1);
    if (!strcmp(cmd, "trace"))
        return ft_cmd_trace(argc - 1, argv + 1);
    if (!strcmp(cmd, "record"))
        return ft_cmd_record(argc - 1, argv + 1);
    if (!strcmp(cmd, "top"))
        return ft_cmd_top(argc - 1, argv + 1);
    if (!strcmp(cmd, "tasks"))
        return ft_cmd_tasks(argc - 1, argv + 1);
    if (!strcmp(cmd, "probe"))
        return ft_cmd_probe(argc - 1, argv + 1);
    fprintf(stderr, "frametap: unknown command '%s': run 'frametap --help' for the list\n", cmd);
    return FT_E_USAGE;
}
