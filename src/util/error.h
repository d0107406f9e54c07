/*
 * error.h - one error message per failed operation, for the user.
 *
 * A failing function calls ft_fail() with a one-line message that names the
 * cause and the fix, and returns its own failure value; the CLI prints the
 * message once. The first message wins: a lower layer's precise reason is not
 * overwritten by a caller's vaguer one. Never prints, never exits.
 */
#ifndef FT_ERROR_H
#define FT_ERROR_H

enum ft_errkind {
    FT_OK = 0,
    FT_E_USAGE = 2,       /* bad command line                         */
    FT_E_NOPROC = 3,      /* no such process                          */
    FT_E_PERM = 4,        /* not allowed to read the process          */
    FT_E_NOTPY = 5,       /* not a Python process                     */
    FT_E_VERSION = 6,     /* Python version we have no layout for     */
    FT_E_EXITED = 7,      /* process went away while being read       */
    FT_E_CORRUPT = 8,     /* remote data failed validation            */
    FT_E_SYSTEM = 9,      /* local failure (memory, files)            */
    FT_E_BADCORE = 10,    /* a core file frametap cannot use          */
};

__attribute__((format(printf, 2, 3)))
void ft_fail(enum ft_errkind kind, const char *fmt, ...);
void ft_error_clear(void);
enum ft_errkind ft_error_kind(void);
const char *ft_error_message(void);

#endif
