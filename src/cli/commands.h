/*
 * commands.h - one entry point per frametap subcommand. Each parses its own
 * options, prints its own --help, and returns the process exit status.
 */
#ifndef FT_COMMANDS_H
#define FT_COMMANDS_H

#include <signal.h>
#include <sys/types.h>

int ft_cmd_dump(int argc, char **argv);
int ft_cmd_record(int argc, char **argv);
int ft_cmd_top(int argc, char **argv);
int ft_cmd_trace(int argc, char **argv);
int ft_cmd_tasks(int argc, char **argv);
int ft_cmd_probe(int argc, char **argv);

/* Shared: prints "frametap: <message>" for the current error and returns
 * its exit status. */
int ft_report_error(void);
/* The same, but first checks whether process pid is exiting, which explains
 * most failures that happen mid-read. */
int ft_report_error_for(int pid);
/* Parses a positive pid; prints a usage error and returns 0 if invalid. */
int ft_parse_pid(const char *s);

/* After getopt: the positional target, a PID or "-- COMMAND ...". Prints a
 * usage error naming cmd and returns -1 when it is neither. */
int ft_parse_target(const char *cmd, int argc, char **argv, int *pid, char ***command);

struct ft_session;
struct ft_dump_header;
/* The header of dump-like outputs (process, Python, binary) for session s. */
struct ft_dump_header ft_dump_header_of(const struct ft_session *s, int paused);
/* The same for a session on a wasm runtime (its label and memory too). */
struct ft_dump_header ft_dump_header_of_wasm(const struct ft_session *s);
/* dump of a process running CPython in WebAssembly (dump_wasm.c): prints
 * every runtime it holds; returns the exit status. */
int ft_dump_wasm(int pid, int json);
/* -1 (ft_fail set) when an option cannot apply to a wasm runtime. */
int ft_dump_wasm_refuses(int locals, int native, int nonblocking, int discovery);
/* 1 if process pid maps no python binary at all (so it may run CPython
 * compiled to wasm), 0 if it does or cannot be told. */
int ft_maps_no_python(int pid);
/* For record and top, after pid was found to be no native Python: its wasm
 * runtimes as sessions in *out (malloc'd, the caller frees the array).
 * Returns how many; 0 or -1 with ft_fail set (the original error when pid
 * maps a Python binary, "not a Python process" saying what was scanned,
 * or a usage error for options wasm targets lack). */
struct ft_sample_opts;
int ft_attach_wasm(int pid, const struct ft_sample_opts *opts, struct ft_session **out);
/* After ft_attach_or_launch() of a command that runs CPython in wasm: the
 * runtimes found beyond the first (*rest malloc'd, the caller owns them). */
int ft_launch_take_wasm(struct ft_session **rest);
/* Opens pid, or starts command and opens it once it runs Python (*child is
 * then its pid; on failure the child is stopped). Returns 0, or -1 (ft_fail
 * set). With any_root, a process that runs no Python is accepted (for
 * following its descendants): 1, s not opened. */
int ft_attach_or_launch(struct ft_session *s, int pid, char **command, pid_t *child,
                        int any_root);
/* Non-blocking: 1 if child (when > 0) has exited, its status in *status. */
int ft_child_exited(pid_t child, int *status);
/* Waits until the launched command exits (1, status set), *stop is set
 * (0), or there is no such child (-1); threads frametap still traces are
 * let go or collected meanwhile. */
int ft_wait_child(pid_t child, int *status, volatile sig_atomic_t *stop);

#endif
