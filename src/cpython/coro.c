/*
 * coro.c - a coroutine's await chain (see coro.h). Which frame format and
 * which value-stack field are read follows from the offsets the layout has,
 * never from a version number.
 */
#include "coro.h"

#include "../util/error.h"
#include "objects.h"
#include "remote.h"
#include "stackref.h"

#include <string.h>

#define HEAD_MAX 512               /* bytes of a generator and its frame read at once */
#define STACK_SLOTS_MAX 65536      /* a value stack deeper than this is corrupt */

/* One coroutine: its frame, and what it awaits (0: nothing, or it is not
 * waiting in an await). *done is set when the coroutine has no frame. */
struct step {
    uint64_t code, frame, awaited;
    int64_t offset;
    int done;
};

static int bad(const char *what, uint64_t addr)
{
    ft_fail(FT_E_CORRUPT, "%s at 0x%llx", what, (unsigned long long)addr);
    return -1;
}

/* The object in a value-stack slot (0 for NULL or a tagged int). */
static uint64_t slot_object(struct ft_reader *r, uint64_t bits)
{
    struct ft_ref v = ft_ref_decode(r->layout, bits);
    return v.kind == FT_REF_OBJECT ? v.addr : 0;
}

/* 3.11+: the frame embedded in the generator. */
static int step_iframe(struct ft_reader *r, uint64_t gen, struct step *s)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    unsigned char b[HEAD_MAX];
    size_t n = (size_t)(o->gen_iframe + o->iframe_localsplus);
    if (n > sizeof b || o->gen_frame_state >= o->gen_iframe) {
        ft_fail(FT_E_VERSION, "generator layout not usable");
        return -1;
    }
    if (ft_proc_read(r->proc, gen, b, n) < 0)
        return -1;
    uint8_t state = ft_u8_in(b, n, o->gen_frame_state);
    if (state == (uint8_t)k->gen_cleared) {
        s->done = 1;
        return 0;
    }
    const unsigned char *f = b + o->gen_iframe;
    size_t fn = (size_t)o->iframe_localsplus;
    s->frame = gen + o->gen_iframe;
    s->code = ft_u64_in(f, fn, o->iframe_executable) & ~k->stackref_tag_bits;
    s->offset = (int64_t)(ft_u64_in(f, fn, o->iframe_instr) - (s->code + o->code_code_adaptive));
    if (state != (uint8_t)k->gen_awaiting)
        return 0;
    uint64_t base = s->frame + o->iframe_localsplus, slots[2];
    if (o->iframe_stackpointer != FT_ABSENT) { /* 3.14+: the topmost slot that is not NULL */
        uint64_t sp = ft_u64_in(f, fn, o->iframe_stackpointer);
        if (sp < base + 8 || sp - base > STACK_SLOTS_MAX * 8ull)
            return bad("coroutine with its stack pointer outside its frame", gen);
        size_t two = sp - base >= 16 ? 2 : 1;
        if (ft_proc_read(r->proc, sp - two * 8, slots + 2 - two, two * 8) < 0)
            return -1;
        s->awaited = slot_object(r, slots[1]);
        if (!s->awaited && two == 2 && ft_ref_decode(r->layout, slots[1]).kind == FT_REF_NULL)
            s->awaited = slot_object(r, slots[0]);
        return 0;
    }
    int32_t top = ft_i32_in(f, fn, o->iframe_stacktop);
    if (top <= 0 || top > STACK_SLOTS_MAX)
        return bad("coroutine with an impossible stack depth", gen);
    if (ft_read_u64(r->proc, base + (uint64_t)(top - 1) * 8, &slots[0]) < 0)
        return -1;
    s->awaited = slot_object(r, slots[0]);
    return 0;
}

/* <=3.10: the generator's frame object. */
static int step_pyframe(struct ft_reader *r, uint64_t gen, struct step *s)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    unsigned char b[HEAD_MAX];
    uint64_t f;
    if (ft_read_u64(r->proc, gen + o->gen_frame, &f) < 0)
        return -1;
    if (!f) {
        s->done = 1;
        return 0;
    }
    uint64_t fields[] = {o->pyframe_code, o->pyframe_lasti, o->pyframe_valuestack, o->pyframe_state,
                         o->pyframe_stacktop, o->pyframe_stackdepth};
    uint64_t end = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] != FT_ABSENT && fields[i] + 8 > end)
            end = fields[i] + 8;
    if (end > sizeof b) {
        ft_fail(FT_E_VERSION, "frame layout not usable");
        return -1;
    }
    if (ft_proc_read(r->proc, f, b, (size_t)end) < 0)
        return -1;
    int32_t lasti = ft_i32_in(b, end, o->pyframe_lasti);
    s->frame = f;
    s->code = ft_u64_in(b, end, o->pyframe_code);
    s->offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)k->lasti_unit;
    if (lasti < 0) /* not started */
        return 0;
    uint64_t vs = ft_u64_in(b, end, o->pyframe_valuestack), top;
    if (o->pyframe_stackdepth != FT_ABSENT) { /* 3.10 */
        int32_t depth = ft_i32_in(b, end, o->pyframe_stackdepth);
        if (ft_u8_in(b, end, o->pyframe_state) != (uint8_t)k->pyframe_suspended)
            return 0;
        if (depth <= 0 || depth > STACK_SLOTS_MAX)
            return bad("coroutine frame with an impossible stack depth", f);
        top = vs + (uint64_t)depth * 8;
    } else { /* 3.8-3.9: f_stacktop is set only while suspended */
        top = ft_u64_in(b, end, o->pyframe_stacktop);
        if (!top)
            return 0;
        if (top <= vs || top - vs > STACK_SLOTS_MAX * 8ull)
            return bad("coroutine frame with its stack top outside its stack", f);
    }
    uint64_t bits;
    if (ft_read_u64(r->proc, top - 8, &bits) < 0)
        return -1;
    s->awaited = slot_object(r, bits);
    return 0;
}

int ft_coro_chain(struct ft_reader *r, uint64_t coro, struct ft_coro_chain *out)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t type, seen[FT_CORO_MAX];
    out->n = 0;
    out->truncated = 0;
    out->awaited = 0;
    if (o->gen_iframe == FT_ABSENT && o->gen_frame == FT_ABSENT) {
        ft_fail(FT_E_VERSION, "this layout does not say where a coroutine's frame is");
        return -1;
    }
    if (ft_obj_type(r, coro, &type) < 0)
        return -1;
    for (uint64_t cur = coro; cur;) {
        struct step s = {0};
        uint64_t t;
        if (out->n == FT_CORO_MAX) {
            out->truncated = 1;
            return 0;
        }
        for (size_t i = 0; i < out->n; i++)
            if (seen[i] == cur)
                return bad("coroutine chain that awaits itself", cur);
        seen[out->n] = cur;
        if ((o->gen_iframe != FT_ABSENT ? step_iframe(r, cur, &s) : step_pyframe(r, cur, &s)) < 0)
            return -1;
        if (s.done)
            return 0;
        struct ft_code *c = ft_code_get(r, s.code);
        if (!c)
            return -1;
        int line = s.offset >= 0 && s.offset < c->code_bytes ? ft_code_line(c, r->layout->linetable, s.offset) : -1;
        out->v[out->n++] = (struct ft_coro_frame){c, line, s.frame};
        cur = 0;
        if (!s.awaited)
            return 0;
        if (ft_obj_type(r, s.awaited, &t) < 0)
            return -1;
        if (t == type)
            cur = s.awaited; /* awaits a coroutine of its own kind: its frame comes next */
        else
            out->awaited = s.awaited;
    }
    return 0;
}
