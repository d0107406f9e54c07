/*
 * errtally.c - error samples by cause (see errtally.h).
 */
#include "errtally.h"

#include <ctype.h>
#include <string.h>

/* The message with hex addresses and decimal numbers blanked. */
static void normalise(const char *m, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; m[i] && o + 4 < n;) {
        if (m[i] == '0' && m[i + 1] == 'x') {
            i += 2;
            while (isxdigit((unsigned char)m[i]))
                i++;
            memcpy(out + o, "0x_", 3);
            o += 3;
        } else if (isdigit((unsigned char)m[i])) {
            while (isdigit((unsigned char)m[i]))
                i++;
            out[o++] = '#';
        } else {
            out[o++] = m[i++];
        }
    }
    out[o] = '\0';
}

static void add_count(struct ft_err_tally *t, const char *cause, uint64_t count)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->cause[i], cause)) {
            t->count[i] += count;
            return;
        }
    if (t->n == FT_TALLY_CAUSES) {
        t->other += count;
        return;
    }
    snprintf(t->cause[t->n], FT_TALLY_CAUSE_LEN, "%s", cause);
    t->count[t->n++] = count;
}

void ft_tally_add(struct ft_err_tally *t, const char *message)
{
    char cause[FT_TALLY_CAUSE_LEN];
    normalise(message, cause, sizeof cause);
    add_count(t, cause, 1);
}

void ft_tally_merge(struct ft_err_tally *into, const struct ft_err_tally *from)
{
    for (size_t i = 0; i < from->n; i++)
        add_count(into, from->cause[i], from->count[i]);
    into->other += from->other;
}

void ft_tally_print(FILE *f, const char *prefix, const struct ft_err_tally *t)
{
    int done[FT_TALLY_CAUSES] = {0};
    for (size_t k = 0; k < t->n; k++) {
        size_t best = t->n;
        for (size_t i = 0; i < t->n; i++)
            if (!done[i] && (best == t->n || t->count[i] > t->count[best]))
                best = i;
        done[best] = 1;
        fprintf(f, "%s%8llu  %s\n", prefix, (unsigned long long)t->count[best], t->cause[best]);
    }
    if (t->other)
        fprintf(f, "%s%8llu  other causes\n", prefix, (unsigned long long)t->other);
}
