/*
 * frame_arg.c - a parameter's value in a native frame from its DWARF
 * location (see frame_arg.h).
 */
#include "frame_arg.h"

#include "../target/process.h"
#include "../util/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

static int reg_value(const struct ft_native_frame *f, unsigned r, uint64_t *v)
{
    if (r >= FT_NATIVE_NREGS || !(f->regmask & (1u << r)))
        return -1;
    *v = f->regs[r];
    return 0;
}

/* The frame base of a subprogram whose DW_AT_frame_base is the CFA: the
 * caller's stack pointer at the call (x86-64: the next frame's sp). */
static int frame_base(Dwarf_Die *fn, Dwarf_Addr pc, const struct ft_native_stack *s, size_t i,
                      uint64_t *v)
{
    Dwarf_Attribute a;
    Dwarf_Op *ops;
    size_t nops;
    if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) ||
        dwarf_getlocation_addr(&a, pc, &ops, &nops, 1) != 1 || nops != 1 ||
        ops[0].atom != DW_OP_call_frame_cfa || i + 1 >= s->n ||
        !(s->v[i + 1].regmask & (1u << FT_NATIVE_REG_SP)))
        return -1;
    *v = s->v[i + 1].sp;
    return 0;
}

static int read_word(struct ft_proc *p, uint64_t addr, uint64_t *v)
{
    if (ft_proc_read(p, addr, v, sizeof *v) < 0) {
        ft_error_clear();
        return -1;
    }
    return 0;
}

static int evaluate(Dwarf_Die *fn, Dwarf_Addr pc, const Dwarf_Op *ops, size_t n, struct ft_proc *p,
                    const struct ft_native_stack *s, size_t i, uint64_t *value)
{
    const struct ft_native_frame *f = &s->v[i];
    uint64_t base;
    uint8_t op = n ? ops[0].atom : 0;
    int stack_value = n == 2 && ops[1].atom == DW_OP_stack_value;
    if (n == 1 && op >= DW_OP_reg0 && op <= DW_OP_reg31)
        return reg_value(f, op - DW_OP_reg0, value);
    if (n == 1 && op == DW_OP_regx)
        return reg_value(f, (unsigned)ops[0].number, value);
    if ((n == 1 || stack_value) && op >= DW_OP_breg0 && op <= DW_OP_breg31) {
        if (reg_value(f, op - DW_OP_breg0, &base) < 0)
            return -1;
        base += (uint64_t)(int64_t)ops[0].number;
        if (stack_value) {
            *value = base;
            return 0;
        }
        return read_word(p, base, value);
    }
    if (n == 1 && op == DW_OP_fbreg) {
        if (frame_base(fn, pc, s, i, &base) < 0)
            return -1;
        return read_word(p, base + (uint64_t)(int64_t)ops[0].number, value);
    }
    return -1;
}

static int find_param(Dwarf_Die *fn, const char *param, Dwarf_Die *out)
{
    if (dwarf_child(fn, out) != 0)
        return -1;
    do {
        const char *name;
        if (dwarf_tag(out) == DW_TAG_formal_parameter && (name = dwarf_diename(out)) &&
            strcmp(name, param) == 0)
            return 0;
    } while (dwarf_siblingof(out, out) == 0);
    return -1;
}

#define ARG_CACHE 1024

/* What the DWARF says at one pc: no location, or the location and the
 * scope it belongs to (libdw's storage: valid while the modules are). */
struct arg_entry {
    uint64_t pc;                 /* 0: empty */
    int found;
    Dwarf_Die fn;
    Dwarf_Addr rel;              /* pc - bias */
    Dwarf_Op *ops;
    size_t nops;
};

struct ft_frame_args {
    struct ft_unwinder *u;
    struct arg_entry slots[ARG_CACHE];
};

struct ft_frame_args *ft_frame_args_new(struct ft_unwinder *u)
{
    struct ft_frame_args *a = calloc(1, sizeof *a);
    if (a)
        a->u = u;
    return a;
}

void ft_frame_args_free(struct ft_frame_args *a)
{
    free(a);
}

void ft_frame_args_reset(struct ft_frame_args *a)
{
    memset(a->slots, 0, sizeof a->slots);
}

static void lookup(struct ft_frame_args *a, Dwarf_Addr pc, const char *func, const char *param,
                   struct arg_entry *e)
{
    Dwarf_Addr bias;
    Dwfl_Module *mod = dwfl_addrmodule(ft_unwinder_dwfl(a->u), pc);
    Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, pc, &bias) : NULL;
    Dwarf_Die *scopes = NULL;
    int n = cu ? dwarf_getscopes(cu, pc - bias, &scopes) : -1;
    for (int k = 0; k < n; k++) {
        int tag = dwarf_tag(&scopes[k]);
        const char *name = dwarf_diename(&scopes[k]);
        if ((tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) || !name ||
            strcmp(name, func) != 0)
            continue;
        Dwarf_Die par;
        Dwarf_Attribute at;
        if (find_param(&scopes[k], param, &par) == 0 &&
            dwarf_attr_integrate(&par, DW_AT_location, &at) &&
            dwarf_getlocation_addr(&at, pc - bias, &e->ops, &e->nops, 1) == 1) {
            e->found = 1;
            e->fn = scopes[k];
            e->rel = pc - bias;
        }
        break;
    }
    free(scopes);
}

int ft_frame_arg(struct ft_frame_args *a, struct ft_proc *p, const struct ft_native_stack *s,
                 size_t i, const char *func, const char *param, uint64_t *value)
{
    const struct ft_native_frame *f = &s->v[i];
    Dwarf_Addr pc = f->activation ? f->pc : f->pc - 1;
    struct arg_entry *e = &a->slots[(pc * 0x9E3779B97F4A7C15ull) >> 54 & (ARG_CACHE - 1)];
    if (e->pc != pc + 1) {
        memset(e, 0, sizeof *e);
        lookup(a, pc, func, param, e);
        e->pc = pc + 1;
    }
    if (!e->found)
        return -1;
    return evaluate(&e->fn, e->rel, e->ops, e->nops, p, s, i, value);
}

#define RANGE_MAX 65536 /* stack bytes of one frame looked at */

/* Notes which wanted value v is (if any) in a set of at most 8 distinct indices. */
struct held {
    size_t idx[FT_HELD_MAX];
    size_t n;
};

static void wanted(const uint64_t *want, size_t nwant, uint64_t v, struct held *h)
{
    for (size_t k = 0; k < nwant; k++)
        if (want[k] == v) {
            for (size_t j = 0; j < h->n; j++)
                if (h->idx[j] == k)
                    return;
            if (h->n < FT_HELD_MAX)
                h->idx[h->n++] = k;
            return;
        }
}

int ft_frame_holds(struct ft_proc *p, const struct ft_native_stack *s, size_t i,
                   const uint64_t *want, size_t nwant, size_t *held)
{
    static const unsigned callee_saved[] = {3, 6, 12, 13, 14, 15}; /* rbx rbp r12-r15 */
    const struct ft_native_frame *f = &s->v[i];
    struct held h = {{0}, 0};
    for (size_t r = 0; r < sizeof callee_saved / sizeof callee_saved[0]; r++) {
        uint64_t v;
        if (reg_value(f, callee_saved[r], &v) == 0)
            wanted(want, nwant, v, &h);
    }
    if (i + 1 >= s->n || !(f->regmask & (1u << FT_NATIVE_REG_SP)) ||
        !(s->v[i + 1].regmask & (1u << FT_NATIVE_REG_SP)) || s->v[i + 1].sp <= f->sp ||
        s->v[i + 1].sp - f->sp > RANGE_MAX)
        return -1;
    size_t len = (size_t)(s->v[i + 1].sp - f->sp) & ~(size_t)7;
    uint64_t *words = malloc(len ? len : 8);
    int ok = words && ft_proc_read(p, f->sp, words, len) == 0;
    for (size_t w = 0; ok && w < len / 8; w++)
        wanted(want, nwant, words[w], &h);
    ft_error_clear();
    free(words);
    if (!ok)
        return -1;
    memcpy(held, h.idx, h.n * sizeof *held);
    return (int)h.n;
}
