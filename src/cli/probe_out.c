/*
 * probe_out.c - writing probe hits (probe_out.h). The agent sends values
 * already rendered (bounded, repr-like); here they are only escaped for
 * the output they go to, by the one rule of util/escape.
 */
#include "probe_out.h"

#include "../util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FIELD 65536

struct field { unsigned tag; char *text; };

/* The fields of m, each as a NUL-terminated copy (NULs inside become '?'). */
static int fields_of(const struct ftw_msg *m, struct field *out, int cap)
{
    size_t pos = 0, len;
    unsigned tag;
    const unsigned char *d;
    int n = 0;
    while (n < cap && ftw_next(m, &pos, &tag, &d, &len) == 1) {
        if (len > MAX_FIELD)
            len = MAX_FIELD;
        char *s = malloc(len + 1);
        if (!s)
            break;
        for (size_t i = 0; i < len; i++)
            s[i] = d[i] ? (char)d[i] : '?';
        s[len] = 0;
        out[n++] = (struct field){ tag, s };
    }
    return n;
}

static void free_fields(struct field *f, int n)
{
    for (int i = 0; i < n; i++)
        free(f[i].text);
}

static const char *get(const struct field *f, int n, unsigned tag)
{
    for (int i = 0; i < n; i++)
        if (f[i].tag == tag)
            return f[i].text;
    return NULL;
}

static const char *at_of(const struct ft_probe_out *o, unsigned id)
{
    return id >= 1 && (int)id <= o->nats ? o->ats[id - 1] : "?";
}

static void iso_time(unsigned long long ns, char *buf, size_t cap, int date)
{
    time_t sec = (time_t)(ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&sec, &tm);
    if (date)
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06lluZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (ns % 1000000000ull) / 1000);
    else {
        localtime_r(&sec, &tm);
        snprintf(buf, cap, "%02d:%02d:%02d.%03llu", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (ns % 1000000000ull) / 1000000);
    }
}

static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void json_key(struct strbuf *sb, const char *key, const char *value, int number)
{
    sb_printf(sb, ",\"%s\":", key);
    if (!value)
        sb_puts(sb, "null");
    else if (number)
        sb_puts(sb, value[0] ? value : "0");
    else
        ft_esc_json(sb, value);
}

static void write_json(struct ft_probe_out *o, struct strbuf *sb)
{
    sb_puts(sb, "}\n");
    fwrite(sb->data, 1, sb->len, o->json);
    fflush(o->json);
}

static void json_head(struct strbuf *sb, const struct ft_probe_out *o, unsigned long long ns,
                      unsigned id, const char *type)
{
    char t[64];
    iso_time(ns, t, sizeof t, 1);
    sb_printf(sb, "{\"time\":\"%s\",\"type\":\"%s\"", t, type);
    if (id) {
        sb_printf(sb, ",\"probe\":%u", id);
        json_key(sb, "at", at_of(o, id), 0);
    }
}

/* ---- hits ---- */

static void hit_json(struct ft_probe_out *o, const struct field *f, int n, unsigned id,
                     unsigned long long ns)
{
    struct strbuf sb;
    sb_init(&sb);
    const char *snapshot = NULL;
    for (int i = 0; i < n && !snapshot; i++)
        if (f[i].tag == FTW_FRAME)
            snapshot = f[i].text;
    json_head(&sb, o, ns, id, snapshot ? "snapshot" : "log");
    json_key(&sb, "pid", get(f, n, FTW_PID), 1);
    json_key(&sb, "tid", get(f, n, FTW_TID), 1);
    json_key(&sb, "thread", get(f, n, FTW_THREAD), 0);
    json_key(&sb, "function", get(f, n, FTW_FUNC), 0);
    json_key(&sb, "file", get(f, n, FTW_FILE), 0);
    json_key(&sb, "line", get(f, n, FTW_LINE), 1);
    if (!snapshot) {
        json_key(&sb, "message", get(f, n, FTW_MESSAGE), 0);
        sb_puts(&sb, ",\"values\":{");
        int first = 1;
        for (int i = 0; i + 1 < n; i++) {
            if (f[i].tag != FTW_EXPR || f[i + 1].tag != FTW_VALUE)
                continue;
            if (!first)
                sb_puts(&sb, ",");
            first = 0;
            ft_esc_json(&sb, f[i].text);
            sb_puts(&sb, ":");
            ft_esc_json(&sb, f[i + 1].text);
        }
        sb_puts(&sb, "}");
    } else {
        sb_puts(&sb, ",\"stack\":[");
        int frames = 0, in_frame = 0, locals_open = 0;
        int seen_top = 0;
        for (int i = 0; i < n; i++) {
            if (f[i].tag == FTW_FRAME) {
                if (locals_open)
                    sb_puts(&sb, "}");
                if (in_frame)
                    sb_puts(&sb, "}");
                sb_puts(&sb, frames++ ? ",{\"function\":" : "{\"function\":");
                ft_esc_json(&sb, f[i].text);
                in_frame = 1;
                locals_open = 0;
                seen_top = 1;
            } else if (seen_top && in_frame && f[i].tag == FTW_FILE) {
                json_key(&sb, "file", f[i].text, 0);
            } else if (seen_top && in_frame && f[i].tag == FTW_LINE) {
                json_key(&sb, "line", f[i].text, 1);
            } else if (in_frame && f[i].tag == FTW_LOCAL && i + 1 < n
                       && f[i + 1].tag == FTW_LOCAL_VALUE) {
                sb_puts(&sb, locals_open ? "," : ",\"locals\":{");
                locals_open = 1;
                ft_esc_json(&sb, f[i].text);
                sb_puts(&sb, ":");
                ft_esc_json(&sb, f[i + 1].text);
            }
        }
        if (locals_open)
            sb_puts(&sb, "}");
        if (in_frame)
            sb_puts(&sb, "}");
        sb_puts(&sb, "]");
    }
    if (get(f, n, FTW_TRUNCATED))
        sb_puts(&sb, ",\"truncated\":true");
    write_json(o, &sb);
    sb_free(&sb);
}

static void hit_text(struct ft_probe_out *o, const struct field *f, int n, unsigned id,
                     unsigned long long ns)
{
    struct strbuf sb;
    sb_init(&sb);
    char t[32];
    iso_time(ns, t, sizeof t, 0);
    const char *thread = get(f, n, FTW_THREAD), *file = get(f, n, FTW_FILE);
    const char *line = get(f, n, FTW_LINE), *func = get(f, n, FTW_FUNC);
    sb_printf(&sb, "%s [%s", t, get(f, n, FTW_PID) ? get(f, n, FTW_PID) : "?");
    if (thread) {
        sb_puts(&sb, " ");
        ft_esc_text(&sb, thread, NULL);
    }
    sb_puts(&sb, "] ");
    ft_esc_text(&sb, base_name(file ? file : "?"), NULL);
    sb_printf(&sb, ":%s ", line ? line : "?");
    ft_esc_text(&sb, func ? func : "?", NULL);
    const char *msg = get(f, n, FTW_MESSAGE);
    if (msg) {
        sb_puts(&sb, ": ");
        ft_esc_text(&sb, msg, NULL);
    } else {
        sb_printf(&sb, ": snapshot (probe %u, --at ", id);
        ft_esc_text(&sb, at_of(o, id), NULL);
        sb_puts(&sb, ")");
        int depth = 0, top = 0;
        for (int i = 0; i < n; i++) {
            if (f[i].tag == FTW_FRAME) {
                const char *ff = i + 1 < n && f[i + 1].tag == FTW_FILE ? f[i + 1].text : "?";
                const char *fl = i + 2 < n && f[i + 2].tag == FTW_LINE ? f[i + 2].text : "?";
                sb_printf(&sb, "\n    #%d ", depth++);
                ft_esc_text(&sb, f[i].text, NULL);
                sb_puts(&sb, " (");
                ft_esc_text(&sb, ff, NULL);
                sb_printf(&sb, ":%s)", fl);
                top = 1;
            } else if (top && f[i].tag == FTW_LOCAL && i + 1 < n && f[i + 1].tag == FTW_LOCAL_VALUE) {
                sb_puts(&sb, "\n        ");
                ft_esc_text(&sb, f[i].text, NULL);
                sb_puts(&sb, " = ");
                ft_esc_text(&sb, f[i + 1].text, NULL);
            }
        }
    }
    if (get(f, n, FTW_TRUNCATED))
        sb_puts(&sb, " <truncated>");
    sb_puts(&sb, "\n");
    fwrite(sb.data, 1, sb.len, stderr);
    sb_free(&sb);
}

void ft_probe_out_note(struct ft_probe_out *o, unsigned id, const char *kind, const char *text)
{
    int is_error = !strcmp(kind, "error") || !strcmp(kind, "dropped");
    if (!strcmp(kind, "limit") || !strcmp(kind, "expired"))
        o->finished++;
    if (!o->quiet || is_error) {
        struct strbuf sb;
        sb_init(&sb);
        sb_puts(&sb, "frametap: ");
        if (id) {
            sb_printf(&sb, "probe %u (--at ", id);
            ft_esc_text(&sb, at_of(o, id), NULL);
            sb_puts(&sb, "): ");
        }
        ft_esc_text(&sb, text, NULL);
        sb_puts(&sb, "\n");
        fwrite(sb.data, 1, sb.len, stderr);
        sb_free(&sb);
    }
    if (o->json) {
        struct strbuf sb;
        sb_init(&sb);
        json_head(&sb, o, now_ns(), id, "status");
        json_key(&sb, "status", kind, 0);
        json_key(&sb, "text", text, 0);
        write_json(o, &sb);
        sb_free(&sb);
    }
}

static void counts(struct ft_probe_out *o, const struct field *f, int n)
{
    for (int i = 0; i + 1 < n; i++) {
        if (f[i].tag != FTW_ID || f[i + 1].tag != FTW_COUNT)
            continue;
        unsigned id = (unsigned)strtoul(f[i].text, NULL, 10);
        unsigned long long c = strtoull(f[i + 1].text, NULL, 10);
        unsigned long long total = c;
        if (o->totals && id >= 1 && (int)id <= o->nats)
            total = o->totals[id - 1] += c;
        if (o->text) {
            struct strbuf sb;
            sb_init(&sb);
            char t[32];
            iso_time(now_ns(), t, sizeof t, 0);
            sb_printf(&sb, "%s probe %u (--at ", t, id);
            ft_esc_text(&sb, at_of(o, id), NULL);
            sb_printf(&sb, "): %llu hits/s, %llu in all\n", c, total);
            fwrite(sb.data, 1, sb.len, stderr);
            sb_free(&sb);
        }
        if (o->json) {
            struct strbuf sb;
            sb_init(&sb);
            json_head(&sb, o, now_ns(), id, "count");
            sb_printf(&sb, ",\"hits_per_second\":%llu,\"total\":%llu", c, total);
            write_json(o, &sb);
            sb_free(&sb);
        }
    }
}

void ft_probe_out_message(struct ft_probe_out *o, const struct ftw_msg *m)
{
    enum { MAX_FIELDS = 16384 };
    struct field *f = malloc(MAX_FIELDS * sizeof *f);
    if (!f)
        return;
    int n = fields_of(m, f, MAX_FIELDS);
    const char *idtext = get(f, n, FTW_ID);
    unsigned id = idtext ? (unsigned)strtoul(idtext, NULL, 10) : 0;
    if (m->type == FTW_HIT) {
        const char *t = get(f, n, FTW_TIME);
        unsigned long long ns = t ? strtoull(t, NULL, 10) : now_ns();
        if (o->json)
            hit_json(o, f, n, id, ns);
        if (o->text)
            hit_text(o, f, n, id, ns);
    } else if (m->type == FTW_STATUS) {
        const char *kind = get(f, n, FTW_KIND), *text = get(f, n, FTW_TEXT);
        ft_probe_out_note(o, id, kind ? kind : "status", text ? text : "");
    } else if (m->type == FTW_COUNTS) {
        counts(o, f, n);
    }
    free_fields(f, n);
    free(f);
}
