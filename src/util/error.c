/*
 * error.c - keeps the first failure message of an operation (see error.h).
 * Never allocates: the message lives in a fixed buffer.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local enum ft_errkind last_kind;
static _Thread_local char last_message[512];

void ft_fail(enum ft_errkind kind, const char *fmt, ...)
{
    if (last_kind != FT_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_kind = kind;
}

void ft_error_clear(void)
{
    last_kind = FT_OK;
    last_message[0] = '\0';
}

enum ft_errkind ft_error_kind(void) { return last_kind; }

const char *ft_error_message(void)
{
    return last_kind == FT_OK ? "no error" : last_message;
}
