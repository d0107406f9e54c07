/*
 * pyrun.h - starting a Python program with frametap's in-process package
 * loaded first (frametap._run), the way `frametap trace -- python ...` and
 * `frametap probe -- python ...` do: python's own options kept, the program
 * given as SCRIPT, -m MODULE or -c CODE, its argv, stdio and exit status
 * its own. Settings travel in environment variables the runner removes.
 */
#ifndef FT_PYRUN_H
#define FT_PYRUN_H

#include <stddef.h>
#include <sys/types.h>

/* cmd[0..opts_end) is python and its options; cmd[rest..] the program's args. */
struct pycmd { int opts_end, rest; const char *mode, *target; };

/* Finds where python's own options end. -1 after printing a usage error
 * naming command. */
int ft_split_python_args(const char *command, char **cmd, int n, struct pycmd *p);
/* build/python beside this frametap (or FRAMETAP_PYTHONPATH); -1 with
 * ft_fail set. */
int ft_package_dir(char *out, size_t cap);
/* Can python load frametap's extension `ext` ("_tracer", "_probe")? 0, or
 * -1 with ft_fail saying why and what to do. */
int ft_check_python(const char *python, const char *pkg, const char *ext);
/* Starts the program with the runner (FRAMETAP_PYRUN_PKG set here); Ctrl-C
 * and Ctrl-\ are the program's until ft_wait_python. 0, or -1 (ft_fail). */
int ft_start_python(char **cmd, int n, const struct pycmd *p, const char *pkg, pid_t *pid);
/* Runs argv with stdout to /dev/null, its stderr into err (cut to cap):
 * its exit status, FT_EXEC_FAILED when it could not be started (err says
 * why), -1 when it could not be waited for. */
int ft_run_quiet(char **argv, char *err, size_t cap);
#define FT_EXEC_FAILED 127
/* The last non-empty line of text (trailing newlines cut in place). */
const char *ft_last_line(char *text);
/* Waits for it (restoring frametap's signals): its wait status. */
int ft_wait_python(pid_t pid, int *status);
/* The shell's exit status for a wait status. */
int ft_exit_status_of(int status);

#endif
