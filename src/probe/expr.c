/*
 * expr.c - parser of probe expressions and logpoint templates (expr.h).
 * Recursive descent over the text, bounded in nodes, depth and length;
 * every failure is one line naming the column. Never evaluates anything.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    struct ftx_expr *x;
    char *err;
    size_t errcap;
    int failed;
};

static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = 1;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errcap, "%s at column %zu", msg, at + 1);
    return -1;
}

static void skip_space(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

static int peek(struct parser *p)
{
    skip_space(p);
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_ident_start(int c) { return c == '_' || isalpha(c) || c >= 0x80; }
static int is_ident_char(int c) { return c == '_' || isalnum(c) || c >= 0x80; }

/* The identifier at pos (without consuming it); its length or 0. */
static size_t ident_at(struct parser *p)
{
    skip_space(p);
    size_t n = 0;
    if (p->pos < p->len && is_ident_start((unsigned char)p->s[p->pos]))
        while (p->pos + n < p->len && is_ident_char((unsigned char)p->s[p->pos + n]))
            n++;
    return n;
}

static int keyword(struct parser *p, const char *kw)
{
    size_t n = ident_at(p);
    if (n == strlen(kw) && memcmp(p->s + p->pos, kw, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static int new_node(struct parser *p, enum ftx_kind kind, int a, int b)
{
    if (p->x->nnodes >= FTX_MAX_NODES)
        return fail(p, p->pos, "expression too long (more than %d parts)", FTX_MAX_NODES);
    struct ftx_node *n = &p->x->nodes[p->x->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->a = (int16_t)a;
    n->b = (int16_t)b;
    return p->x->nnodes++;
}

static int pool_put(struct parser *p, const char *s, size_t n, uint32_t *off)
{
    struct ftx_expr *x = p->x;
    if (x->pool_used + n + 1 > sizeof x->pool)
        return fail(p, p->pos, "expression too long");
    memcpy(x->pool + x->pool_used, s, n);
    x->pool[x->pool_used + n] = 0;
    *off = (uint32_t)x->pool_used;
    x->pool_used += n + 1;
    return 0;
}

static int parse_or(struct parser *p);

static int put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int hex_digits(struct parser *p, size_t at, int count, unsigned long *out)
{
    *out = 0;
    for (int i = 0; i < count; i++) {
        if (at + (size_t)i >= p->len || !isxdigit((unsigned char)p->s[at + i]))
            return fail(p, at, "bad escape in string: %d hex digits expected", count);
        char c = p->s[at + i];
        *out = *out * 16 + (unsigned long)(isdigit((unsigned char)c) ? c - '0' : (tolower(c) - 'a' + 10));
    }
    return 0;
}

/* A quoted literal at pos (after an optional b prefix). */
static int parse_string(struct parser *p, int bytes)
{
    size_t start = p->pos;
    char quote = p->s[p->pos++];
    char buf[FTX_MAX_SOURCE * 4 + 8];
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, start, "string not closed");
        char c = p->s[p->pos++];
        if (c == quote)
            break;
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        if (p->pos >= p->len)
            return fail(p, start, "string not closed");
        char e = p->s[p->pos++];
        unsigned long cp = 0;
        switch (e) {
        case 'n': buf[n++] = '\n'; break;
        case 't': buf[n++] = '\t'; break;
        case 'r': buf[n++] = '\r'; break;
        case '0': buf[n++] = '\0'; break;
        case '\\': case '\'': case '"': buf[n++] = e; break;
        case 'x':
            if (hex_digits(p, p->pos, 2, &cp) < 0)
                return -1;
            p->pos += 2;
            if (bytes)
                buf[n++] = (char)cp;
            else
                n += (size_t)put_utf8(buf + n, cp);
            break;
        case 'u': case 'U': {
            int digits = e == 'u' ? 4 : 8;
            if (bytes)
                return fail(p, p->pos - 2, "\\%c is not allowed in bytes", e);
            if (hex_digits(p, p->pos, digits, &cp) < 0)
                return -1;
            if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                return fail(p, p->pos - 2, "bad code point in \\%c escape", e);
            p->pos += (size_t)digits;
            n += (size_t)put_utf8(buf + n, cp);
            break;
        }
        default:
            return fail(p, p->pos - 2, "unknown escape \\%c", e);
        }
    }
    int id = new_node(p, bytes ? FTX_BYTES : FTX_STR, -1, -1);
    if (id < 0)
        return -1;
    p->x->nodes[id].len = (uint32_t)n;
    return pool_put(p, buf, n, &p->x->nodes[id].str) < 0 ? -1 : id;
}

static int parse_number(struct parser *p)
{
    size_t start = p->pos, end = start;
    char digits[64];
    size_t n = 0;
    int is_float = 0, hex = p->pos + 1 < p->len && p->s[p->pos] == '0'
                             && (p->s[p->pos + 1] == 'x' || p->s[p->pos + 1] == 'X');
    if (hex)
        end += 2;
    while (end < p->len && n + 1 < sizeof digits) {
        char c = p->s[end];
        if (c == '_') { end++; continue; }
        int ok = hex ? isxdigit((unsigned char)c)
               : isdigit((unsigned char)c) || c == '.' || c == 'e' || c == 'E'
                 || ((c == '+' || c == '-') && n && (digits[n - 1] == 'e' || digits[n - 1] == 'E'));
        if (!ok)
            break;
        if (!hex && (c == '.' || c == 'e' || c == 'E'))
            is_float = 1;
        digits[n++] = c;
        end++;
    }
    digits[n] = 0;
    if (end < p->len && is_ident_char((unsigned char)p->s[end]))
        return fail(p, start, "bad number");
    int id = new_node(p, is_float ? FTX_FLOAT : FTX_INT, -1, -1);
    if (id < 0)
        return -1;
    char *stop;
    errno = 0;
    if (is_float) {
        p->x->nodes[id].f = strtod(digits, &stop);
    } else {
        unsigned long long v = strtoull(digits, &stop, hex ? 16 : 10);
        if (errno || v > (unsigned long long)INT64_MAX)
            return fail(p, start, "number too large (64 bits at most)");
        p->x->nodes[id].i = (int64_t)v;
    }
    if (*stop || (hex && n == 0))
        return fail(p, start, "bad number");
    p->pos = end;
    return id;
}

static int enter(struct parser *p)
{
    if (++p->depth > FTX_MAX_DEPTH)
        return fail(p, p->pos, "expression nested too deeply");
    return 0;
}

/* After '(' or '[': a parenthesised expression, or a tuple or list. */
static int parse_group(struct parser *p, char close)
{
    if (enter(p) < 0)
        return -1;
    int first = -1, last = -1, n = 0, comma = 0;
    while (peek(p) != close) {
        int v = parse_or(p);
        if (v < 0)
            return -1;
        int item = new_node(p, FTX_ITEM, v, -1);
        if (item < 0)
            return -1;
        if (last >= 0)
            p->x->nodes[last].b = (int16_t)item;
        else
            first = item;
        last = item;
        n++;
        comma = peek(p) == ',';
        if (!comma)
            break;
        p->pos++;
    }
    p->depth--;
    if (peek(p) != close)
        return fail(p, p->pos, "'%c' expected", close);
    p->pos++;
    if (close == ')' && n == 1 && !comma)
        return p->x->nodes[first].a;             /* (expr): just grouping */
    int seq = new_node(p, FTX_SEQ, first, -1);
    if (seq >= 0)
        p->x->nodes[seq].op = close == ']';
    return seq;
}

static int parse_primary(struct parser *p)
{
    int c = peek(p);
    if (c < 0)
        return fail(p, p->pos, "expression expected");
    if (c == '(' || c == '[') {
        p->pos++;
        return parse_group(p, c == '(' ? ')' : ']');
    }
    if (c == '\'' || c == '"')
        return parse_string(p, 0);
    if ((c == 'b' || c == 'B') && p->pos + 1 < p->len
        && (p->s[p->pos + 1] == '\'' || p->s[p->pos + 1] == '"')) {
        p->pos++;
        return parse_string(p, 1);
    }
    if (isdigit(c) || (c == '.' && p->pos + 1 < p->len && isdigit((unsigned char)p->s[p->pos + 1])))
        return parse_number(p);
    size_t n = ident_at(p);
    if (!n)
        return fail(p, p->pos, "unexpected '%c'", c);
    const char *w = p->s + p->pos;
    static const struct { const char *w; enum ftx_kind k; } consts[] = {
        { "None", FTX_NONE }, { "True", FTX_TRUE }, { "False", FTX_FALSE },
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
        if (n == strlen(consts[i].w) && memcmp(w, consts[i].w, n) == 0) {
            p->pos += n;
            return new_node(p, consts[i].k, -1, -1);
        }
    static const char *const reserved[] = { "and", "or", "not", "in", "is", "lambda", "if",
                                            "else", "await", "yield" };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (n == strlen(reserved[i]) && memcmp(w, reserved[i], n) == 0)
            return fail(p, p->pos, "unexpected '%s'", reserved[i]);
    size_t at = p->pos;
    p->pos += n;
    if (peek(p) == '(') {
        if (!(n == 3 && memcmp(w, "len", 3) == 0))
            return fail(p, at, "calls are not allowed (only len(...)): '%.*s(' would run code",
                        (int)n, w);
        p->pos++;
        if (enter(p) < 0)
            return -1;
        int arg = parse_or(p);
        p->depth--;
        if (arg < 0)
            return -1;
        if (peek(p) != ')')
            return fail(p, p->pos, "')' expected after len's argument");
        p->pos++;
        return new_node(p, FTX_LEN, arg, -1);
    }
    int id = new_node(p, FTX_NAME, -1, -1);
    if (id < 0)
        return -1;
    p->x->nodes[id].len = (uint32_t)n;
    return pool_put(p, w, n, &p->x->nodes[id].str) < 0 ? -1 : id;
}

static int parse_postfix(struct parser *p)
{
    int id = parse_primary(p);
    for (int steps = 0; id >= 0; steps++) {
        if (steps > FTX_MAX_DEPTH)
            return fail(p, p->pos, "expression nested too deeply");
        int c = peek(p);
        if (c == '.') {
            p->pos++;
            size_t n = ident_at(p);
            if (!n)
                return fail(p, p->pos, "attribute name expected after '.'");
            int a = new_node(p, FTX_ATTR, id, -1);
            if (a < 0)
                return -1;
            p->x->nodes[a].len = (uint32_t)n;
            if (pool_put(p, p->s + p->pos, n, &p->x->nodes[a].str) < 0)
                return -1;
            p->pos += n;
            id = a;
        } else if (c == '[') {
            p->pos++;
            if (enter(p) < 0)
                return -1;
            if (peek(p) == ':' )
                return fail(p, p->pos, "slices are not supported");
            int key = parse_or(p);
            p->depth--;
            if (key < 0)
                return -1;
            if (peek(p) == ':')
                return fail(p, p->pos, "slices are not supported");
            if (peek(p) != ']')
                return fail(p, p->pos, "']' expected");
            p->pos++;
            id = new_node(p, FTX_INDEX, id, key);
        } else if (c == '(') {
            return fail(p, p->pos, "calls are not allowed: they would run the program's code");
        } else {
            break;
        }
    }
    return id;
}

static int parse_unary(struct parser *p)
{
    if (peek(p) == '-') {
        p->pos++;
        if (enter(p) < 0)
            return -1;
        int a = parse_unary(p);
        p->depth--;
        return a < 0 ? -1 : new_node(p, FTX_NEG, a, -1);
    }
    return parse_postfix(p);
}

/* A comparison operator at pos: its ftx_cmp, or -1 (nothing consumed). */
static int cmp_op(struct parser *p)
{
    int c = peek(p);
    const char *s = p->s + p->pos;
    size_t left = p->len - p->pos;
    static const struct { const char *t; int op; } ops[] = {
        { "==", FTX_EQ }, { "!=", FTX_NE }, { "<=", FTX_LE }, { ">=", FTX_GE },
        { "<", FTX_LT }, { ">", FTX_GT },
    };
    if (c == '=' && !(left > 1 && s[1] == '='))
        return fail(p, p->pos, "'=' is assignment: use '==' to compare"), -2;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].t);
        if (left >= n && memcmp(s, ops[i].t, n) == 0) {
            p->pos += n;
            return ops[i].op;
        }
    }
    if (keyword(p, "in"))
        return FTX_IN;
    size_t save = p->pos;
    if (keyword(p, "not")) {
        if (keyword(p, "in"))
            return FTX_NOT_IN;
        p->pos = save;
        return -1;
    }
    if (keyword(p, "is"))
        return keyword(p, "not") ? FTX_IS_NOT : FTX_IS;
    return -1;
}

static int parse_cmp(struct parser *p)
{
    int left = parse_unary(p);
    int result = -1;
    while (left >= 0) {
        int op = cmp_op(p);
        if (op == -2)
            return -1;
        if (op < 0)
            return result >= 0 ? result : left;
        int right = parse_unary(p);
        if (right < 0)
            return -1;
        int cmp = new_node(p, FTX_CMP, left, right);
        if (cmp < 0)
            return -1;
        p->x->nodes[cmp].op = (uint8_t)op;
        result = result < 0 ? cmp : new_node(p, FTX_AND, result, cmp);
        if (result < 0)
            return -1;
        left = right;
    }
    return -1;
}

static int parse_not(struct parser *p)
{
    if (keyword(p, "not")) {
        if (enter(p) < 0)
            return -1;
        int a = parse_not(p);
        p->depth--;
        return a < 0 ? -1 : new_node(p, FTX_NOT, a, -1);
    }
    return parse_cmp(p);
}

static int parse_and(struct parser *p)
{
    int left = parse_not(p);
    while (left >= 0 && keyword(p, "and")) {
        int right = parse_not(p);
        left = right < 0 ? -1 : new_node(p, FTX_AND, left, right);
    }
    return left;
}

static int parse_or(struct parser *p)
{
    int left = parse_and(p);
    while (left >= 0 && keyword(p, "or")) {
        int right = parse_and(p);
        left = right < 0 ? -1 : new_node(p, FTX_OR, left, right);
    }
    return left;
}

int ftx_parse(const char *s, size_t len, struct ftx_expr *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    struct parser p = { .s = s, .len = len, .x = out, .err = err, .errcap = errcap };
    if (len > FTX_MAX_SOURCE)
        return fail(&p, FTX_MAX_SOURCE, "expression longer than %d characters", FTX_MAX_SOURCE);
    memcpy(out->source, s, len);
    out->source[len] = 0;
    if (memchr(s, 0, len))
        return fail(&p, (size_t)((const char *)memchr(s, 0, len) - s), "NUL byte in expression");
    int root = parse_or(&p);
    if (root < 0 || p.failed)
        return fail(&p, p.pos, "syntax error");
    if (peek(&p) >= 0)
        return fail(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
    out->root = root;
    return 0;
}

/* ---- templates ---- */

/* Where the {expression} that starts at s[i] ends: the index of its '}'
 * (brackets and quoted strings skipped), or 0. */
static size_t closing_brace(const char *s, size_t i)
{
    int nest = 0;
    for (size_t j = i; s[j]; j++) {
        char c = s[j];
        if (c == '\'' || c == '"') {
            for (j++; s[j] && s[j] != c; j++)
                if (s[j] == '\\' && s[j + 1])
                    j++;
            if (!s[j])
                return 0;
        } else if (c == '(' || c == '[') {
            nest++;
        } else if (c == ')' || c == ']') {
            nest--;
        } else if (c == '}' && nest <= 0) {
            return j;
        } else if (c == '{') {
            return 0;
        }
    }
    return 0;
}

static int add_part(struct ftx_template *t, const char *text, size_t len, struct ftx_expr *x,
                    char *err, size_t errcap)
{
    if (t->nparts >= FTX_MAX_PARTS) {
        snprintf(err, errcap, "template has more than %d pieces", FTX_MAX_PARTS);
        free(x);
        return -1;
    }
    t->parts[t->nparts++] = (struct ftx_part){ text, len, x };
    return 0;
}

int ftx_template_parse(const char *s, struct ftx_template *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    size_t n = strlen(s);
    if (n > FTX_MAX_SOURCE * 4) {
        snprintf(err, errcap, "template longer than %d characters", FTX_MAX_SOURCE * 4);
        return -1;
    }
    t->buf = malloc(n + 1);
    if (!t->buf) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    char *lit = t->buf;
    size_t used = 0, lit_start = 0;
    for (size_t i = 0; i < n;) {
        if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
            t->buf[used++] = s[i];
            i += 2;
            continue;
        }
        if (s[i] == '}') {
            snprintf(err, errcap, "single '}' at column %zu: write '}}' for a brace", i + 1);
            goto bad;
        }
        if (s[i] != '{') {
            t->buf[used++] = s[i++];
            continue;
        }
        size_t end = closing_brace(s, i + 1);
        if (!end) {
            snprintf(err, errcap, "'{' at column %zu is not closed by '}' (write '{{' for a brace)",
                     i + 1);
            goto bad;
        }
        if (used > lit_start && add_part(t, lit + lit_start, used - lit_start, NULL, err, errcap) < 0)
            goto bad;
        lit_start = used;
        struct ftx_expr *x = malloc(sizeof *x);
        char sub[200];
        if (!x || ftx_parse(s + i + 1, end - i - 1, x, sub, sizeof sub) < 0) {
            snprintf(err, errcap, "in {%.*s}: %s", (int)(end - i - 1 > 60 ? 60 : end - i - 1),
                     s + i + 1, x ? sub : "out of memory");
            free(x);
            goto bad;
        }
        if (add_part(t, NULL, 0, x, err, errcap) < 0)
            goto bad;
        i = end + 1;
    }
    if (used > lit_start && add_part(t, lit + lit_start, used - lit_start, NULL, err, errcap) < 0)
        goto bad;
    return 0;
bad:
    ftx_template_free(t);
    return -1;
}

void ftx_template_free(struct ftx_template *t)
{
    for (int i = 0; i < t->nparts; i++)
        free(t->parts[i].expr);
    free(t->buf);
    memset(t, 0, sizeof *t);
}
