/*
 * expr.h - the probe expression language, parsed without Python: names
 * with attribute, index and key access (user.id, items[0], h['x']), len(),
 * literals (numbers, strings, bytes, None/True/False, tuples and lists of
 * them), comparisons (chained), and/or/not; and logpoint templates
 * ('TEXT {expr} TEXT', '{{' and '}}' for braces).
 *
 * Shared by the frametap command (to reject a bad --when or --log before
 * anything starts) and the in-process extension (which evaluates the tree
 * over a live frame). Must stay free of Python.h and of any I/O: it only
 * turns text into a bounded tree or a one-line error.
 */
#ifndef FT_PROBE_EXPR_H
#define FT_PROBE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#define FTX_MAX_SOURCE 1000   /* characters of one expression or template */
#define FTX_MAX_NODES  128
#define FTX_MAX_DEPTH  24     /* nesting of parentheses, attributes, ... */
#define FTX_MAX_PARTS  32     /* literal and {expr} pieces of a template */

enum ftx_kind {
    FTX_NAME,    /* str: the name */
    FTX_ATTR,    /* a: object, str: attribute name */
    FTX_INDEX,   /* a: object, b: key or index */
    FTX_LEN,     /* a: argument of len() */
    FTX_INT,     /* i */
    FTX_FLOAT,   /* f */
    FTX_STR,     /* str: UTF-8 */
    FTX_BYTES,   /* str: raw bytes */
    FTX_NONE, FTX_TRUE, FTX_FALSE,
    FTX_NOT,     /* a */
    FTX_AND,     /* a and b */
    FTX_OR,      /* a or b */
    FTX_CMP,     /* a op b (a chain a < b < c is AND of two CMPs) */
    FTX_NEG,     /* -a */
    FTX_SEQ,     /* a tuple (op 0) or list (op 1) literal; a: first ITEM or -1 */
    FTX_ITEM,    /* a: the item, b: the next ITEM or -1 */
};

enum ftx_cmp { FTX_EQ, FTX_NE, FTX_LT, FTX_LE, FTX_GT, FTX_GE, FTX_IN, FTX_NOT_IN, FTX_IS,
               FTX_IS_NOT };

struct ftx_node {
    uint8_t kind, op;
    int16_t a, b;              /* children, -1 when none */
    int64_t i;
    double f;
    uint32_t str, len;         /* bytes in ftx_expr.pool */
};

struct ftx_expr {
    struct ftx_node nodes[FTX_MAX_NODES];
    int nnodes, root;
    char pool[FTX_MAX_SOURCE + 64];
    size_t pool_used;
    char source[FTX_MAX_SOURCE + 1];   /* the text it came from, for messages */
};

/* Parses s[0..len) as one whole expression. 0, or -1 with a one-line
 * reason in err (which names the column). */
int ftx_parse(const char *s, size_t len, struct ftx_expr *out, char *err, size_t errcap);

struct ftx_part {
    const char *text;          /* literal text (braces unescaped), or NULL */
    size_t len;
    struct ftx_expr *expr;     /* or an expression */
};

struct ftx_template {
    int nparts;
    struct ftx_part parts[FTX_MAX_PARTS];
    char *buf;                 /* owns the literal texts */
};

/* Parses a --log template. 0, or -1 with a one-line reason in err. */
int ftx_template_parse(const char *s, struct ftx_template *t, char *err, size_t errcap);
void ftx_template_free(struct ftx_template *t);

/* The text of node n's string payload. */
static inline const char *ftx_str(const struct ftx_expr *x, const struct ftx_node *n)
{
    return x->pool + n->str;
}

#endif
