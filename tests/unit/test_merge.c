/*
 * test_merge.c - the merge of Python runs into native stacks where the
 * name-and-count rule of other tools goes wrong: eval frames without
 * names (stripped builds, .cold parts), an eval activation that has not
 * pushed its frame yet, an unwind that stops early or skips frames, and
 * addresses out of order. Synthetic stacks: sp grows outward by 0x100
 * per frame, so frame i's range is [0x1000 + 0x100 i, 0x1000 + 0x100 (i+1)).
 */
#include "check.h"
#include "native/merge.h"

#include <string.h>

#define SP(i) (0x1000u + 0x100u * (i))

static struct ft_native_frame frames[32];
static struct ft_merge_native info[32];

static struct ft_native_stack stack_of(size_t n)
{
    memset(frames, 0, sizeof frames);
    memset(info, 0, sizeof info);
    for (size_t i = 0; i < n; i++) {
        frames[i].pc = 0x400000 + i;
        frames[i].sp = SP(i);
        frames[i].regmask = 1u << FT_NATIVE_REG_SP;
        info[i].in_interp = 1;
    }
    struct ft_native_stack s = {frames, n, n, 0, ""};
    return s;
}

/* The merged order as a string: P<n> Python frame, N<n> native frame
 * (* when it runs the Python frames before it), | a mark. */
static const char *order(const struct ft_merged *m)
{
    static char buf[512];
    size_t k = 0;
    for (size_t i = 0; i < m->n && k + 8 < sizeof buf; i++) {
        const struct ft_mitem *it = &m->v[i];
        if (it->kind == FT_MITEM_MARK)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "| ");
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%c%zu%s ",
                                  it->kind == FT_MITEM_PYTHON ? 'P' : 'N', it->index,
                                  it->runs_python ? "*" : "");
    }
    buf[k ? k - 1 : 0] = '\0';
    return buf;
}

#define CHECK_ORDER(m, want)                                                   \
    do {                                                                       \
        check_count++;                                                         \
        if (strcmp(order(m), want) != 0) {                                     \
            check_failures++;                                                  \
            fprintf(stderr, "%s:%d: order '%s', expected '%s'\n", __FILE__, __LINE__, order(m), want); \
        }                                                                      \
    } while (0)

/* 3.12+: two runs anchored by the addresses of their entry frames. */
static void test_by_address(void)
{
    struct ft_native_stack s = stack_of(6);
    struct ft_segment seg[] = {{0, 2, SP(1) + 0x40, FT_ANCHOR_CSTACK},
                               {2, 1, SP(4) + 0x10, FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    CHECK(ft_merge(&s, info, seg, 2, 3, &m) == 0);
    CHECK_ORDER(&m, "N0 P0 P1 N1* N2 N3 P2 N4* N5");
    CHECK_EQ_INT(m.by_address, 2);
    CHECK(m.merged && !m.note[0]);
    ft_merged_free(&m);
}

/* Names say there are three eval frames, Python says two runs: an extra
 * eval activation (entered, no frame pushed yet) breaks counting, not the
 * addresses. */
static void test_counts_disagree(void)
{
    struct ft_native_stack s = stack_of(6);
    for (int i = 1; i <= 4; i += 1)
        info[i].is_eval = i != 2;
    struct ft_segment seg[] = {{0, 1, SP(3) + 8, FT_ANCHOR_CSTACK},
                               {1, 1, SP(4) + 8, FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 2, 2, &m);
    CHECK_ORDER(&m, "N0 N1 N2 P0 N3* P1 N4* N5");
    ft_merged_free(&m);
}

/* Stripped build: no eval frame has a name, addresses still place runs. */
static void test_stripped(void)
{
    struct ft_native_stack s = stack_of(4);
    struct ft_segment seg[] = {{0, 3, SP(2), FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 1, 3, &m);
    CHECK_ORDER(&m, "N0 N1 P0 P1 P2 N2* N3");
    ft_merged_free(&m);
}

/* An anchor in a frame that is not the interpreter's (a broken unwind
 * made one range cover several frames) claims nothing; with no eval names
 * the run cannot be placed and both stacks are given apart. */
static void test_foreign_frame(void)
{
    struct ft_native_stack s = stack_of(4);
    info[2].in_interp = 0;
    struct ft_segment seg[] = {{0, 1, SP(2) + 8, FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 1, 1, &m);
    CHECK(!m.merged);
    CHECK_ORDER(&m, "N0 N1 N2 N3 | P0");
    CHECK(strstr(m.note, "not merged") != NULL);
    ft_merged_free(&m);
}

/* The unwind stopped before the outer runs: they follow a mark. */
static void test_unwind_ends_early(void)
{
    struct ft_native_stack s = stack_of(3);
    snprintf(s.end, sizeof s.end, "no unwind information");
    struct ft_segment seg[] = {{0, 1, SP(1), FT_ANCHOR_CSTACK},
                               {1, 2, 0x400000, FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 2, 3, &m);
    CHECK(m.merged);
    CHECK_ORDER(&m, "N0 P0 N1* N2 | P1 P2");
    CHECK_EQ_INT(m.after_end, 1);
    ft_merged_free(&m);
}

/* Anchors out of order (a stale address): the later one is not trusted and
 * order by name fills in only where the counts agree. */
static void test_out_of_order(void)
{
    struct ft_native_stack s = stack_of(5);
    info[1].is_eval = info[3].is_eval = 1;
    struct ft_segment seg[] = {{0, 1, SP(3), FT_ANCHOR_CSTACK}, {1, 1, SP(1), FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 2, 2, &m);
    CHECK(!m.merged); /* run 1 has no eval frame left after frame 3 */
    ft_merged_free(&m);
}

/* A run whose entry frame lies on another thread's stack (a thread state
 * that moved between OS threads): an eval frame here by name must not
 * take it. */
static void test_anchor_elsewhere(void)
{
    struct ft_native_stack s = stack_of(4);
    info[2].is_eval = 1;
    struct ft_segment seg[] = {{0, 2, 0x7000000, FT_ANCHOR_CSTACK}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 1, 2, &m);
    CHECK(!m.merged);
    CHECK_ORDER(&m, "N0 N1 N2 N3 | P0 P1");
    ft_merged_free(&m);
    /* an unknown anchor (3.12+ chain without its entry frame) may go by order */
    seg[0].kind = FT_ANCHOR_NONE;
    ft_merge(&s, info, seg, 1, 2, &m);
    CHECK_ORDER(&m, "N0 N1 P0 P1 N2* N3");
    CHECK_EQ_INT(m.by_order, 1);
    ft_merged_free(&m);
}

/* 3.8-3.10: one frame object per activation, found in what it keeps; a
 * held set that disagrees with the order refuses the order. */
static void test_frame_arguments(void)
{
    struct ft_native_stack s = stack_of(6);
    for (int i = 1; i <= 5; i += 2)
        info[i].is_eval = 1;
    info[1].have_arg = 1, info[1].arg = 0xA0;
    info[3].held_known = 1, info[3].nheld = 2, info[3].held[0] = 0xB0, info[3].held[1] = 0xC0;
    info[5].have_arg = 1, info[5].arg = 0xC0;
    struct ft_segment seg[] = {{0, 1, 0xA0, FT_ANCHOR_FRAME_ARG}, {1, 1, 0xB0, FT_ANCHOR_FRAME_ARG},
                               {2, 1, 0xC0, FT_ANCHOR_FRAME_ARG}};
    struct ft_merged m;
    ft_merge(&s, info, seg, 3, 3, &m);
    CHECK_ORDER(&m, "N0 P0 N1* N2 P1 N3* N4 P2 N5*");
    CHECK_EQ_INT(m.by_argument, 3); /* run 1 by order, confirmed by what frame 3 holds */
    ft_merged_free(&m);
    info[3].held[0] = 0xD0; /* frame 3 does not keep run 1's frame object */
    ft_merge(&s, info, seg, 3, 3, &m);
    CHECK(!m.merged);
    ft_merged_free(&m);
}

static void test_names(void)
{
    CHECK(ft_is_eval_symbol("_PyEval_EvalFrameDefault"));
    CHECK(ft_is_eval_symbol("_PyEval_EvalFrameDefault.cold"));
    CHECK(ft_is_eval_symbol("_TAIL_CALL_LOAD_ATTR.llvm.123"));
    CHECK(!ft_is_eval_symbol("PyEval_EvalCode"));
    CHECK(!ft_is_eval_symbol(NULL));
    CHECK(ft_is_plumbing_symbol("_PyFunction_Vectorcall"));
    CHECK(ft_is_plumbing_symbol("cfunction_vectorcall_O"));
    CHECK(ft_is_plumbing_symbol("PyObject_Call"));
    CHECK(!ft_is_plumbing_symbol("builtin_sorted"));
    CHECK(!ft_is_plumbing_symbol("time_sleep"));
    CHECK(!ft_is_plumbing_symbol(NULL));
}

int main(void)
{
    test_by_address();
    test_counts_disagree();
    test_stripped();
    test_foreign_frame();
    test_unwind_ends_early();
    test_out_of_order();
    test_anchor_elsewhere();
    test_frame_arguments();
    test_names();
    return check_report("merge");
}
