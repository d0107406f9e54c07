#!/bin/bash
# CPU per written sample of `record` in its default mode (cpu: only threads
# on a CPU are sampled, so every thread's state is looked at every round),
# flat out, for two frametap binaries in interleaved rounds: a target with
# one spinning thread, and one with a spinning thread and 20 asleep.
#
# usage: bench/oncpu_cost.sh OLD_FRAMETAP [NEW_FRAMETAP] [PYTHON]
#   NEW_FRAMETAP defaults to build/frametap, PYTHON to python3.15.
set -eu
cd "$(dirname "$0")/.."
old=$1
new=${2:-build/frametap}
py=${3:-/opt/pythons/bin/python3.15}
rounds=${ROUNDS:-3}

measure() { # binary pid -> "us_per_sample samples"
    local out
    out=$( { /usr/bin/time -f "TIME %U %S" "$1" record -r 1000000 -d 2 -f collapsed -o /dev/null "$2"; } 2>&1 )
    echo "$out" | awk '/^frametap: [0-9.]+ s, [0-9]+ samples/ && !n {for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^samples/) n = $i}
                       /^TIME/ {cpu = $2 + $3}
                       END {if (n > 0) printf "%.2f %d\n", cpu / n * 1e6, n; else print "- 0"}'
}

run_target() { # label argv...
    local label=$1; shift
    "$@" > /tmp/oncpu_cost.$$ &
    local pid=$!
    until grep -q READY /tmp/oncpu_cost.$$ 2>/dev/null; do sleep 0.1; done
    local o=() n=()
    for r in $(seq "$rounds"); do
        o+=("$(measure "$old" "$pid" | cut -d' ' -f1)")
        n+=("$(measure "$new" "$pid" | cut -d' ' -f1)")
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f /tmp/oncpu_cost.$$
    local mo mn
    mo=$(printf "%s\n" "${o[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    mn=$(printf "%s\n" "${n[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    printf "| %s | %s | %s | %.2f |\n" "$label" "$mo" "$mn" "$(echo "$mn / $mo" | bc -l)"
}

echo "| target ($($py -c 'import sys; print(sys.version.split()[0])')) | old us/sample | new us/sample | new/old |"
echo "|---|---|---|---|"
run_target "one thread spinning, depth 10" "$py" bench/targets/deep.py 10 spin
run_target "one spinning + 20 asleep" "$py" bench/targets/busy_idle.py 20
