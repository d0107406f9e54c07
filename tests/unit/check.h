/*
 * check.h - the few assertion macros the C unit tests share. A failed check
 * prints file:line and the expression, and the test exits non-zero at end.
 */
#ifndef FT_CHECK_H
#define FT_CHECK_H

#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond)                                                            \
    do {                                                                       \
        check_count++;                                                         \
        if (!(cond)) {                                                         \
            check_failures++;                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long a_ = (a), b_ = (b);                                          \
        check_count++;                                                         \
        if (a_ != b_) {                                                        \
            check_failures++;                                                  \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
        }                                                                      \
    } while (0)

static int check_report(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, check_count - check_failures, check_failures);
    return check_failures ? 1 : 0;
}

#endif
