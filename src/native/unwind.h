/*
 * unwind.h - native (C) stacks of a target's threads through elfutils'
 * libdwfl: one Dwfl session per target (a live process or a core file),
 * kept for as long as the target is read and re-reported when the target
 * maps a library it did not have (dlopen), so that ELF files, CFI and
 * symbol tables are loaded once, not per sample.
 *
 * Knows nothing about Python. Never stops, resumes or writes to a live
 * target: the caller holds a thread stopped (ptrace) for the instant of
 * its unwind; libdwfl then reads registers (PTRACE_GETREGS) and stack
 * memory. Every unwind is bounded (FT_NATIVE_MAX frames, a repeated frame
 * ends it).
 */
#ifndef FT_UNWIND_H
#define FT_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FT_NATIVE_MAX 16384     /* frames of one native stack, innermost first */
#define FT_NATIVE_NREGS 17      /* DWARF x86-64 registers 0-16 (rax .. return address) */
#define FT_NATIVE_REG_SP 7
#define FT_HELD_MAX 8           /* values one frame is found to hold (frame_arg.h) */

struct ft_native_frame {
    uint64_t pc;                /* where the frame is: a return address unless activation */
    uint64_t sp;                /* the stack pointer in this frame */
    int activation;             /* pc is exact (innermost or interrupted frame) */
    uint32_t regmask;           /* which regs[] are known (bit n: DWARF register n) */
    uint64_t regs[FT_NATIVE_NREGS]; /* only filled when the unwind asked for registers */
};

struct ft_native_stack {
    struct ft_native_frame *v;
    size_t n, cap;
    int truncated;              /* FT_NATIVE_MAX reached or a frame repeated */
    char end[160];              /* why the unwind stopped early, "" when it reached the end */
};

struct ft_unwinder;
struct ft_core;

/* A session for live process pid, whose threads the caller stops before
 * each unwind. NULL with ft_fail() set. */
struct ft_unwinder *ft_unwinder_open_pid(pid_t pid);
/* A session for a core file (its files found as core's resolver says).
 * NULL with ft_fail() set (elfutils rejects some cores written by gdb). */
struct ft_unwinder *ft_unwinder_open_core(const struct ft_core *core);
void ft_unwinder_close(struct ft_unwinder *u);

/* Unwinds thread tid (a host tid for a live target, the core's own for a
 * core) into out (reset first). want_regs also keeps every frame's
 * registers. Returns 0 (out->end says how it ended), or -1 with ft_fail()
 * set when the thread could not be unwound at all. */
int ft_unwind_thread(struct ft_unwinder *u, pid_t tid, int want_regs, struct ft_native_stack *out);
void ft_native_stack_free(struct ft_native_stack *s);

/* Re-reports the live target's modules (after a dlopen); keeps what was
 * loaded for modules that stay. 0 or -1 (ft_fail set). */
int ft_unwinder_refresh(struct ft_unwinder *u);
/* How many times modules were reported (1 after opening). */
unsigned ft_unwinder_reports(const struct ft_unwinder *u);

/* libdwfl's session, for the symbolizer and the DWARF reader (opaque
 * here: the type is Dwfl from <elfutils/libdwfl.h>). */
void *ft_unwinder_dwfl(struct ft_unwinder *u);
/* The path of the file a module (a Dwfl_Module) was mapped from, as the
 * target named it: libdwfl names a core's modules by soname or basename,
 * so for a core the path comes from the core's NT_FILE entry at the
 * module's start. */
const char *ft_unwinder_module_path(struct ft_unwinder *u, void *module);

#endif
