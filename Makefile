# frametap - build, demo, tests. `make demo` and `make check` are the two
# commands a new machine needs; both install what is missing (apt, as root).

CC      ?= cc
CLANG   ?= clang
PKGS     = libelf libdw libprotobuf-c zlib ncursesw
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Ibuild/gen
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lelf -ldw -lprotobuf-c -lz -lncursesw)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

GEN      = build/gen/profile.pb-c.c
SRC      = $(wildcard src/*/*.c)
LIBSRC   = $(filter-out src/cli/%,$(SRC))
OBJ      = $(SRC:src/%.c=build/obj/%.o) build/obj/gen/profile.pb-c.o
ASANOBJ  = $(SRC:src/%.c=build/asan/obj/%.o) build/asan/obj/gen/profile.pb-c.o
UNITS    = $(patsubst tests/unit/%.c,build/asan/unit/%,$(wildcard tests/unit/*.c))
FUZZERS  = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/*.c))
PYTEST  ?= /usr/bin/python3 -m pytest
.DEFAULT_GOAL := all

BUILD_DEPS = build-essential pkg-config libelf-dev libdw-dev libprotobuf-c-dev protobuf-c-compiler \
             zlib1g-dev libncurses-dev python3-dev
TEST_DEPS  = python3-pytest clang libclang-rt-14-dev patchelf strace util-linux \
             chromium golang-go tmux

.PHONY: all asan deps test-deps demo check unit fuzz pytest bench bench-trace bench-probe bench-writers bench-native bench-wasm clean \
        layouts python man install

# The in-process package (python/frametap) is built per interpreter, each
# extension named by that interpreter's EXT_SUFFIX inside build/python/frametap.
# `make python` builds it for every interpreter the tests know, or for one:
# `make python PYTHON=/usr/bin/python3.11`. PYEXT_SRC changes rebuild it.
PYEXT_SRC = $(wildcard python/frametap/*.py python/frametap/*/*.py python/frametap/_tracer/*.[ch] \
            python/frametap/_probe/*.[ch] \
            python/frametap/common/*.h src/probe/*.[ch]) src/trace/trace_format.h

python:
	tools/build-python.sh $(PYTHON)

build/python/.all: $(PYEXT_SRC) tools/build-python.sh
	tools/build-python.sh
	@touch $@

# The same with ASan+UBSan; tests load it with the sanitizer runtimes preloaded.
build/asan-python/.all: $(PYEXT_SRC) tools/build-python.sh
	OUT=build/asan-python CFLAGS="-O1 -g" EXTRA_CFLAGS="$(SANFLAGS)" tools/build-python.sh
	@touch $@

# The build runs in a sub-make so that pkg-config is asked only after deps
# has installed what it reports on (a fresh machine has none of it yet).
# It also builds the in-process package for the python3 on PATH, so that
# `frametap trace` works right after `make`.
all: deps
	@$(MAKE) --no-print-directory build/frametap build/python/.path

build/python/.path: $(PYEXT_SRC) tools/build-python.sh
	@py=$$(command -v python3) && tools/build-python.sh "$$py" >/dev/null || \
	    echo "make: the in-process package was not built for python3 on PATH ($$py): frametap trace needs 'make python PYTHON=...'" >&2
	@touch $@

# The manual page, from the --help texts (tests/test_cli.py checks that the
# checked-in frametap.1 is what this produces).
man: build/frametap
	/usr/bin/python3 tools/gen-man.py build/frametap >frametap.1

PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/lib/frametap/python/frametap
	install -m 755 build/frametap $(DESTDIR)$(PREFIX)/bin/frametap
	install -m 644 frametap.1 $(DESTDIR)$(PREFIX)/share/man/man1/frametap.1
	cp -r build/python/frametap/. $(DESTDIR)$(PREFIX)/lib/frametap/python/frametap/

asan: build/asan/frametap

build/frametap: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/frametap: $(ASANOBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# Generated protobuf code: built from proto/, never checked in.
build/gen/profile.pb-c.c build/gen/profile.pb-c.h: proto/profile.proto
	@mkdir -p build/gen
	protoc-c --proto_path=proto --c_out=build/gen profile.proto

build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) $(DEPCFLAGS) -c -o $@ $<

build/asan/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) $(DEPCFLAGS) -c -o $@ $<

build/obj/%.o: src/%.c $(wildcard src/*/*.h) build/gen/profile.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(DEPCFLAGS) -c -o $@ $<

build/asan/obj/%.o: src/%.c $(wildcard src/*/*.h) build/gen/profile.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(DEPCFLAGS) -c -o $@ $<

build/asan/unit/%: tests/unit/%.c $(filter-out build/asan/obj/cli/%,$(ASANOBJ))
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(DEPCFLAGS) -Isrc -o $@ $^ $(LDLIBS)

# Fuzzers share one set of instrumented objects (compiled once, not per fuzzer).
FUZZFLAGS = $(WARN) -Wno-unused-parameter -O1 -g
FUZZOBJ   = $(LIBSRC:src/%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/profile.pb-c.o

build/fuzz/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(DEPCFLAGS) -c -o $@ $<

build/fuzz/obj/%.o: src/%.c $(wildcard src/*/*.h) build/gen/profile.pb-c.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(DEPCFLAGS) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZOBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer,address,undefined $(DEPCFLAGS) -Isrc -o $@ $^ $(LDLIBS)

# Installs missing packages when root; otherwise prints the apt line to run.
deps:
	@tools/need-packages.sh $(BUILD_DEPS)

test-deps:
	@tools/need-packages.sh $(BUILD_DEPS) $(TEST_DEPS)
	@command -v npm >/dev/null || tools/need-packages.sh nodejs npm
	@[ -d tests/consumers/node_modules/speedscope ] || \
	    (cd tests/consumers && npm ci --no-audit --no-fund --loglevel=error)

demo: deps
	@$(MAKE) --no-print-directory build/frametap
	@tools/demo.sh

unit: $(UNITS)
	@for t in $(UNITS); do echo "== $$t"; $$t || exit 1; done

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do \
	    name=$$(basename $$f); mkdir -p build/fuzz/corpus-$$name tests/fuzz/seeds/$$name; \
	    echo "== fuzzing $$name for $${FUZZ_SECONDS:-20}s"; \
	    $$f -artifact_prefix=build/fuzz/ -max_total_time=$${FUZZ_SECONDS:-20} -max_len=4096 build/fuzz/corpus-$$name tests/fuzz/seeds/$$name \
	        2>build/fuzz/$$name.log || { tail -50 build/fuzz/$$name.log; exit 1; }; \
	    tail -1 build/fuzz/$$name.log; \
	done

pytest: build/frametap build/asan/frametap build/python/.all build/asan-python/.all $(UNITS)
	$(PYTEST) -q tests

check: test-deps
	@$(MAKE) --no-print-directory build/frametap build/asan/frametap unit fuzz pytest

bench: build/frametap build/bench/stack_read
	bench/stack_read.sh

# Cost per traced event on every interpreter against cProfile and a bare
# C hook (bench/RESULTS.md); ROUNDS=N to change the repetitions.
bench-trace: build/frametap build/python/.all build/bench/clock_cost
	build/bench/clock_cost
	/usr/bin/python3 bench/trace_cost.py

# What a probe costs the program on every interpreter, beside bdb and
# cProfile (bench/RESULTS.md); ROUNDS=N to change the repetitions.
bench-probe: build/frametap build/python/.all
	/usr/bin/python3 bench/probe_cost.py

# Time and peak memory of each profile writer on a synthetic profile of
# 20k distinct stacks and 60k samples (bench/RESULTS.md).
bench-writers: build/bench/writers
	build/bench/writers

build/bench/writers: bench/writers.c $(filter-out build/obj/cli/%,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(DEPCFLAGS) -Isrc -o $@ $^ $(LDLIBS)

build/bench/clock_cost: bench/clock_cost.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -o $@ $<

# What dump --native costs per thread at depth 50: the libdwfl session, the
# first (cold) collect and warm ones; then record --native samples/s against
# record (bench/RESULTS.md).
bench-native: build/frametap build/bench/native_cost
	bench/native_cost.sh
	bench/record_native.sh

# CPU per sample and samples/s on CPython in WebAssembly (pyodide in node)
# against a native 3.13 at the same depth (bench/RESULTS.md).
bench-wasm: build/frametap
	/usr/bin/python3 bench/wasm_cost.py

build/bench/native_cost: bench/native_cost.c $(filter-out build/obj/cli/%,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(DEPCFLAGS) -Isrc -o $@ $^ $(LDLIBS)

build/bench/stack_read: bench/stack_read.c $(filter-out build/obj/cli/%,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(DEPCFLAGS) -Isrc -o $@ $^ $(LDLIBS)

# Regenerates src/cpython/layouts_generated.h from each CPython's headers.
layouts:
	tools/gen_layouts.sh

clean:
	rm -rf build
