/*
 * tools/wasm32/pyconfig.h - the host's pyconfig.h seen as CPython's wasm32
 * Emscripten build (pyodide) configures it, for tools/gen_layouts.sh only.
 *
 * What it is for: compiling tools/layout_probe.c for wasm32 against a
 * version's own headers, so that wasm32 rows come from offsetof() like the
 * native ones. Sizes come from the compiler (--target=wasm32), never from
 * typed-in numbers; the only settings changed are those Emscripten builds
 * lack and that decide whether a field exists in a struct frametap reads
 * through (fork support, the perf trampoline). What it must never do:
 * leak into frametap's own build, or state a size the compiler does not.
 */
#include "pyconfig_host.h"

#undef SIZEOF_VOID_P
#define SIZEOF_VOID_P __SIZEOF_POINTER__
#undef SIZEOF_SIZE_T
#define SIZEOF_SIZE_T __SIZEOF_SIZE_T__
#undef SIZEOF_LONG
#define SIZEOF_LONG __SIZEOF_LONG__
#undef SIZEOF_UINTPTR_T
#define SIZEOF_UINTPTR_T __SIZEOF_POINTER__
#undef SIZEOF_PTHREAD_T
#define SIZEOF_PTHREAD_T __SIZEOF_POINTER__
#undef SIZEOF_PTHREAD_KEY_T
#define SIZEOF_PTHREAD_KEY_T __SIZEOF_INT__
#undef SIZEOF_WCHAR_T
#define SIZEOF_WCHAR_T __SIZEOF_WCHAR_T__
#undef ALIGNOF_SIZE_T
#define ALIGNOF_SIZE_T __SIZEOF_SIZE_T__
#undef ALIGNOF_LONG
#define ALIGNOF_LONG __SIZEOF_LONG__
#undef ALIGNOF_MAX_ALIGN_T
#define ALIGNOF_MAX_ALIGN_T __BIGGEST_ALIGNMENT__
/* Emscripten has no fork(); CPython's perf trampoline is x86-64/aarch64 Linux only. */
#undef HAVE_FORK
#undef PY_HAVE_PERF_TRAMPOLINE
