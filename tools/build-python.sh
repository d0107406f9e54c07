#!/bin/bash
# Builds the in-process package python/frametap (C extensions _tracer and
# _probe + Python files) into build/python/frametap for each interpreter given, or for every
# interpreter tests/interpreters.py knows when none is. Each build is named
# by its interpreter's EXT_SUFFIX, so one directory serves them all.
# OUT=dir and EXTRA_CFLAGS=... make other variants (the sanitizer build).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/python}/frametap
mkdir -p "$out"
cp python/frametap/*.py "$out/"
mkdir -p "$out/_exec_site"
cp python/frametap/_exec_site/*.py "$out/_exec_site/"
CFLAGS=${CFLAGS:--O2 -g}
EXTRA=${EXTRA_CFLAGS:-}

pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
    mapfile -t pythons < <(cd tests && /usr/bin/python3 -c '
import interpreters
for i, path, how in interpreters.expected():
    print(path or "MISSING:" + i)')
fi

status=0
declare -A built
for py in "${pythons[@]}"; do
    if [[ $py == MISSING:* ]]; then
        echo "build-python: ${py#MISSING:} is not installed; not built" >&2
        status=1
        continue
    fi
    read -r inc suffix ver < <("$py" -c 'import sysconfig, sys
print(sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX"), "%d.%d" % sys.version_info[:2])')
    if [ -n "${built[$suffix]:-}" ]; then
        echo "== $py ($ver) uses the $suffix build from ${built[$suffix]}"
        continue
    fi
    built[$suffix]=$py
    echo "== $py ($ver) -> $out/{_tracer,_probe}$suffix"
    # _probe shares the expression parser and message format with the
    # frametap command (src/probe), which is plain C without Python.
    for ext in _tracer _probe; do
        srcs=(python/frametap/$ext/*.c)
        [ $ext = _probe ] && srcs+=(src/probe/*.c)
        ${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $CFLAGS $EXTRA -fPIC -shared \
            -fvisibility=hidden -isystem "$inc" -isystem "$(dirname "$inc")" \
            "${srcs[@]}" -o "$out/$ext$suffix.tmp" -lpthread
        mv "$out/$ext$suffix.tmp" "$out/$ext$suffix"
    done
done
exit $status
