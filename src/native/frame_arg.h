/*
 * frame_arg.h - the value a function's parameter had in one native frame,
 * from the DWARF location of that parameter at the frame's pc: a register
 * (the frame's own, as the unwinder recovered it) or a stack slot (frame
 * base = the call frame address). Used to learn which PyFrameObject an
 * eval-loop activation runs on CPython 3.8-3.10.
 *
 * Evaluates only the simple location forms compilers emit for a live
 * parameter (DW_OP_reg*, DW_OP_breg*, DW_OP_fbreg with a CFA frame base);
 * anything else (entry values, pieces, optimized out) is "unknown", never
 * a guess. GCC gives up tracking variables in functions as large as
 * CPython 3.8-3.10's eval loop, so there the parameter is "optimized out"
 * at every call; ft_frame_holds is the fallback that needs no DWARF.
 * Reads target memory only through the given ft_proc.
 */
#ifndef FT_FRAME_ARG_H
#define FT_FRAME_ARG_H

#include "unwind.h"

#include <stdint.h>

struct ft_proc;

/* The DWARF lookups behind ft_frame_arg, cached per pc for the life of
 * the unwinder's modules (a lookup walks a compile unit's DIEs; a stack
 * at depth 50 asks for the same few pcs on every sample). */
struct ft_frame_args;
struct ft_frame_args *ft_frame_args_new(struct ft_unwinder *u);
void ft_frame_args_free(struct ft_frame_args *a);
/* Forgets every answer (the unwinder re-reported its modules). */
void ft_frame_args_reset(struct ft_frame_args *a);

/* The value of parameter param of the function (or inlined function)
 * named func around frame i of s (func and param are the same on every
 * call with a given cache). 0 with *value set, -1 unknown. */
int ft_frame_arg(struct ft_frame_args *a, struct ft_proc *p, const struct ft_native_stack *s,
                 size_t i, const char *func, const char *param, uint64_t *value);

/* Without DWARF for it: which of the values in want[] the frame keeps
 * where a function keeps what it needs after a call returns: in the
 * callee-saved registers the unwinder recovered for it (rbx, rbp,
 * r12-r15) or in a word of its stack range [sp, caller's sp). Their
 * indices go in held[] (at most FT_HELD_MAX, first found first); returns
 * how many there are, -1 when the frame's range cannot be read. A value
 * the function still needs is always among them; others may be too
 * (stale slots, pointers to related objects). */

int ft_frame_holds(struct ft_proc *p, const struct ft_native_stack *s, size_t i,
                   const uint64_t *want, size_t nwant, size_t *held);

#endif
