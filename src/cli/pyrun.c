/*
 * pyrun.c - starting a Python program under frametap's runner (pyrun.h),
 * shared by trace and probe. Never touches the program's stdio; frametap's
 * own signals are ignored while the program runs so that Ctrl-C is the
 * program's to handle.
 */
#include "pyrun.h"

#include "../util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int ft_split_python_args(const char *command, char **cmd, int n, struct pycmd *p)
{
    for (int i = 1; i < n; i++) {
        const char *a = cmd[i];
        if (strcmp(a, "--") == 0 || a[0] != '-') {
            int s = strcmp(a, "--") == 0 ? i + 1 : i;
            if (s >= n || strcmp(cmd[s], "-") == 0)
                break;
            *p = (struct pycmd){ i, s + 1, "script", cmd[s] };
            return 0;
        }
        if ((a[1] == 'm' || a[1] == 'c') && a[2]) {
            *p = (struct pycmd){ i, i + 1, a[1] == 'm' ? "module" : "code", a + 2 };
            return 0;
        }
        if (strcmp(a, "-m") == 0 || strcmp(a, "-c") == 0) {
            if (i + 1 >= n)
                break;
            *p = (struct pycmd){ i, i + 2, a[1] == 'm' ? "module" : "code", cmd[i + 1] };
            return 0;
        }
        if (strcmp(a, "-W") == 0 || strcmp(a, "-X") == 0 || strcmp(a, "--check-hash-based-pycs") == 0)
            i++;
    }
    fprintf(stderr, "frametap %s: give the program as 'PYTHON script.py ...', 'PYTHON -m module "
            "...' or 'PYTHON -c code ...' after --\n", command);
    return -1;
}

/* A directory holding a built frametap package (not the source folder,
 * whose _tracer/ directory would import as an empty namespace package). */
static int is_built_package(const char *dir)
{
    char init[PATH_MAX + 128], mark[PATH_MAX + 128];
    snprintf(init, sizeof init, "%s/frametap/__init__.py", dir);
    snprintf(mark, sizeof mark, "%s/frametap/_tracer", dir);
    struct stat st;
    return access(init, R_OK) == 0 && !(stat(mark, &st) == 0 && S_ISDIR(st.st_mode));
}

int ft_package_dir(char *out, size_t cap)
{
    const char *env = getenv("FRAMETAP_PYTHONPATH");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = 0;
        static const char *const rel[] = { "python", "../python", "../lib/frametap/python" };
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char dir[PATH_MAX], real[PATH_MAX];
            int w = snprintf(dir, sizeof dir, "%s/%s", self, rel[i]);
            if (w > 0 && (size_t)w < sizeof dir && is_built_package(dir) && realpath(dir, real)) {
                w = snprintf(out, cap, "%s", real);
                if (w > 0 && (size_t)w < cap)
                    return 0;
            }
        }
    }
    ft_fail(FT_E_SYSTEM, "frametap's Python package was not found beside this frametap: run "
            "'make python', or set FRAMETAP_PYTHONPATH to the directory holding frametap/");
    return -1;
}

int ft_run_quiet(char **argv, char *err, size_t cap)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        close(pipefd[0]);
        execvp(argv[0], argv);
        fprintf(stderr, "%s", strerror(errno));
        _exit(FT_EXEC_FAILED);
    }
    close(pipefd[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < cap && (n = read(pipefd[0], err + used, cap - 1 - used)) > 0)
        used += (size_t)n;
    err[used] = 0;
    close(pipefd[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

const char *ft_last_line(char *text)
{
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = 0;
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

int ft_check_python(const char *python, const char *pkg, const char *ext)
{
    char code[1024], err[2048];
    /* an extension module built for this interpreter, not a namespace
     * package or a stray file; looked for before importing the package, so
     * that a missing one is said as such (not as the package's ImportError) */
    snprintf(code, sizeof code, "import os, sys, importlib.machinery as m; "
             "d = os.path.join(sys.argv[1], 'frametap'); "
             "any(os.path.isfile(os.path.join(d, '%s' + s)) for s in m.EXTENSION_SUFFIXES) or "
             "sys.exit('not built for Python %%d.%%d%%s' %% (sys.version_info[:2] + "
             "(getattr(sys, 'abiflags', ''),))); "
             "sys.path.insert(0, sys.argv[1]); import frametap.%s as e; "
             "assert isinstance(e.__loader__, m.ExtensionFileLoader), "
             "'frametap.%s is not a built extension'", ext, ext, ext);
    char *argv[] = { (char *)python, "-c", code, (char *)pkg, NULL };
    int rc = ft_run_quiet(argv, err, sizeof err);
    if (rc == 0)
        return 0;
    if (rc == FT_EXEC_FAILED && !strchr(err, '\n')) {
        ft_fail(FT_E_USAGE, "cannot run %s: %s", python, err);
        return -1;
    }
    ft_fail(FT_E_VERSION, "%s cannot load frametap's in-process extension (%s): build it for "
            "this interpreter with 'make python PYTHON=%s' (CPython 3.8 to 3.15)",
            python, ft_last_line(err), python);
    return -1;
}

static const char BOOT[] =
    "import os, sys; sys.path.insert(0, os.environ.pop('FRAMETAP_PYRUN_PKG')); "
    "import frametap._run; frametap._run.main()";

static struct sigaction old_int, old_quit;

int ft_start_python(char **cmd, int n, const struct pycmd *p, const char *pkg, pid_t *pid)
{
    char **argv = calloc((size_t)n + 4, sizeof *argv);
    if (!argv) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    int k = 0;
    for (int i = 0; i < p->opts_end; i++)
        argv[k++] = cmd[i];
    argv[k++] = "-c";
    argv[k++] = (char *)BOOT;
    argv[k++] = (char *)p->mode;
    argv[k++] = (char *)p->target;
    for (int i = p->rest; i < n; i++)
        argv[k++] = cmd[i];
    argv[k] = NULL;
    setenv("FRAMETAP_PYRUN_PKG", pkg, 1);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigaction(SIGINT, &ign, &old_int);     /* Ctrl-C is the program's to handle */
    sigaction(SIGQUIT, &ign, &old_quit);
    *pid = fork();
    if (*pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        execvp(argv[0], argv);
        fprintf(stderr, "frametap: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(FT_EXEC_FAILED);
    }
    free(argv);
    unsetenv("FRAMETAP_PYRUN_PKG");
    if (*pid < 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        ft_fail(FT_E_SYSTEM, "cannot start %s: %s", cmd[0], strerror(errno));
        return -1;
    }
    return 0;
}

int ft_wait_python(pid_t pid, int *status)
{
    int rc = 0;
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            rc = -1;
            break;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return rc;
}

int ft_exit_status_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
