/*
 * probe_spec.c - parsing and checking the probe options of `frametap
 * probe` (probe_spec.h). The expressions are parsed with the same parser
 * the agent uses (src/probe/expr.c), so what passes here parses there.
 */
#include "probe_spec.h"

#include "../probe/expr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "frametap probe: %s '%s': %s\n", opt, arg, why);
    return -1;
}

/* "30", "30s", "1.5m", "2h", "1d" -> seconds */
static int parse_duration(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    double unit = 1;
    if (end == s || v < 0)
        return -1;
    if (*end && !end[1])
        switch (*end) {
        case 's': unit = 1; end++; break;
        case 'm': unit = 60; end++; break;
        case 'h': unit = 3600; end++; break;
        case 'd': unit = 86400; end++; break;
        }
    if (*end || !(v * unit > 0) || v * unit > 1e9)
        return -1;
    *out = v * unit;
    return 0;
}

/* "100", "100/s", "5/m", "300/h" -> per second */
static int parse_rate(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    double per = 1;
    if (end == s || !(v > 0))
        return -1;
    if (*end == '/') {
        if (!strcmp(end, "/s")) per = 1;
        else if (!strcmp(end, "/m")) per = 60;
        else if (!strcmp(end, "/h")) per = 3600;
        else return -1;
    } else if (*end) {
        return -1;
    }
    *out = v / per;
    return 0;
}

static struct ft_probe_spec *current(struct ft_probe_set *s, const char *opt)
{
    if (s->n == 0) {
        fprintf(stderr, "frametap probe: %s belongs to a probe: give --at first\n", opt);
        return NULL;
    }
    return &s->p[s->n - 1];
}

static int set_action(struct ft_probe_spec *p, int action, const char *opt)
{
    if (p->action && p->action != action) {
        fprintf(stderr, "frametap probe: --at %s has two actions: give one of --log, --snapshot "
                "and --count per --at (%s)\n", p->at, opt);
        return -1;
    }
    p->action = action;
    return 1;
}

int ft_probe_option(struct ft_probe_set *s, int c, const char *arg)
{
    struct ft_probe_spec *p;
    char err[300];
    switch (c) {
    case FT_POPT_AT:
        if (s->n == FT_MAX_PROBES) {
            fprintf(stderr, "frametap probe: at most %d probes\n", FT_MAX_PROBES);
            return -1;
        }
        if (!*arg)
            return bad("--at", arg, "give FILE:LINE, FUNC or FILE:FUNC");
        s->p[s->n++] = (struct ft_probe_spec){ .at = arg, .budget = 0.01 };
        return 1;
    case FT_POPT_REDACT:
        if (s->nredact == FT_MAX_REDACT)
            return bad("--redact", arg, "too many words");
        if (!*arg || strlen(arg) > 30)
            return bad("--redact", arg, "give a word of 1 to 30 characters");
        s->redact[s->nredact++] = arg;
        return 1;
    case FT_POPT_LOG: {
        if (!(p = current(s, "--log")))
            return -1;
        struct ftx_template t;
        if (ftx_template_parse(arg, &t, err, sizeof err) < 0)
            return bad("--log", arg, err);
        ftx_template_free(&t);
        p->tmpl = arg;
        return set_action(p, FT_ACT_LOG, "--log");
    }
    case FT_POPT_SNAPSHOT:
        return (p = current(s, "--snapshot")) ? set_action(p, FT_ACT_SNAPSHOT, "--snapshot") : -1;
    case FT_POPT_COUNT:
        return (p = current(s, "--count")) ? set_action(p, FT_ACT_COUNT, "--count") : -1;
    case FT_POPT_FRAMES: {
        if (!(p = current(s, "--snapshot-frames")))
            return -1;
        char *end;
        long n = strtol(arg, &end, 10);
        if (end == arg || *end || n < 0 || n > 50)
            return bad("--snapshot-frames", arg, "give a number of callers from 0 to 50");
        p->frames = (int)n;
        return 1;
    }
    case FT_POPT_WHEN: {
        if (!(p = current(s, "--when")))
            return -1;
        struct ftx_expr *x = malloc(sizeof *x);
        int rc = x ? ftx_parse(arg, strlen(arg), x, err, sizeof err) : -1;
        free(x);
        if (rc < 0)
            return bad("--when", arg, x ? err : "out of memory");
        p->when = arg;
        return 1;
    }
    case FT_POPT_LIMIT: {
        if (!(p = current(s, "--limit")))
            return -1;
        char *end;
        unsigned long long n = strtoull(arg, &end, 10);
        if (end == arg || *end || n == 0 || !isdigit((unsigned char)arg[0]))
            return bad("--limit", arg, "give a number of hits, 1 or more");
        p->limit = n;
        return 1;
    }
    case FT_POPT_RATE:
        if (!(p = current(s, "--rate")))
            return -1;
        if (parse_rate(arg, &p->rate) < 0)
            return bad("--rate", arg, "give hits per second as N or N/s (or N/m, N/h)");
        return 1;
    case FT_POPT_EXPIRE:
        if (!(p = current(s, "--expire")))
            return -1;
        if (parse_duration(arg, &p->expire) < 0)
            return bad("--expire", arg, "give a duration: 30s, 5m, 2h, 1d");
        return 1;
    case FT_POPT_BUDGET: {
        if (!(p = current(s, "--budget")))
            return -1;
        char *end;
        double v = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "%")) || !(v > 0) || v > 100)
            return bad("--budget", arg, "give a share of one CPU core in percent, above 0, at "
                       "most 100");
        p->budget = v / 100;
        return 1;
    }
    }
    return 0;
}

int ft_probe_set_check(const struct ft_probe_set *s, int need_one)
{
    if (s->n == 0 && need_one) {
        fprintf(stderr, "frametap probe: give at least one probe: --at FILE:LINE (or FUNC) "
                "with --log TEXT, --snapshot or --count\n");
        return -1;
    }
    for (int i = 0; i < s->n; i++)
        if (!s->p[i].action) {
            fprintf(stderr, "frametap probe: --at %s needs an action: --log 'TEXT {expr}', "
                    "--snapshot or --count\n", s->p[i].at);
            return -1;
        }
    return 0;
}

size_t ft_probe_add_message(const struct ft_probe_set *s, int i, struct ftw_buf *b)
{
    static const char *const actions[] = { "", "log", "snapshot", "count" };
    const struct ft_probe_spec *p = &s->p[i];
    char num[64];
    ftw_begin(b, FTW_ADD);
    ftw_field_str(b, FTW_P_AT, p->at);
    ftw_field_str(b, FTW_P_ACTION, actions[p->action]);
    if (p->tmpl)
        ftw_field_str(b, FTW_P_TEMPLATE, p->tmpl);
    if (p->when)
        ftw_field_str(b, FTW_P_WHEN, p->when);
    if (p->limit)
        ftw_field_u64(b, FTW_P_LIMIT, p->limit);
    snprintf(num, sizeof num, "%.17g", p->rate);
    ftw_field_str(b, FTW_P_RATE, num);
    snprintf(num, sizeof num, "%.17g", p->expire);
    ftw_field_str(b, FTW_P_EXPIRE, num);
    ftw_field_u64(b, FTW_P_FRAMES, (uint64_t)p->frames);
    snprintf(num, sizeof num, "%.17g", p->budget);
    ftw_field_str(b, FTW_P_BUDGET, num);
    for (int k = 0; k < s->nredact; k++)
        ftw_field_str(b, FTW_P_REDACT, s->redact[k]);
    return ftw_end(b);
}

void ft_probe_help(FILE *f)
{
    fputs("probes (each --at begins one; the options after it are its own):\n"
          "      --at WHERE         FILE:LINE (FILE: a path, a path suffix or a module\n"
          "                         name), FUNC or FILE:FUNC (on entry to the function;\n"
          "                         FUNC: a name or Class.name)\n"
          "      --log 'TEXT {expr} TEXT'\n"
          "                         a logpoint: expr is a name of a local, argument or\n"
          "                         global with .attr, [index] and ['key'], or len(...)\n"
          "      --snapshot         the arguments and locals of the frame, and the stack\n"
          "      --snapshot-frames N  also the locals of N callers (default 0)\n"
          "      --count            hits per second, printed every second\n"
          "      --when 'COND'      only when COND holds: comparisons, in, is, and, or,\n"
          "                         not, literals and the same names as --log\n"
          "      --limit N          stop after N hits\n"
          "      --rate N[/s]       at most N hits per second (or N/m, N/h); more are skipped\n"
          "      --expire DURATION  remove the probe after 30s, 5m, 2h, 1d, ...\n"
          "      --budget PCT       CPU the probe may use, in percent of one core over 10 s\n"
          "                         (default 1); past it the probe pauses and says so\n"
          "      --redact WORD      also hide values of names containing WORD (every probe;\n"
          "                         password, token, secret, api_key, authorization, cookie\n"
          "                         and similar are always hidden)\n", f);
}
