#!/bin/sh
# stack_read.sh - runs build/bench/stack_read on every interpreter found, at
# depth 10 and 50, on a parked stack and on a spinning one: CPU and syscalls
# per stack for dump's full read and for the sampler's fast read. Rounds are
# interleaved across interpreters (the machine is noisy) and the median of
# ROUNDS is reported. Writes a markdown table to stdout.
#
#   make bench                 (ROUNDS=5 ITERATIONS=20000 by default)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
ITERATIONS=${ITERATIONS:-20000}
. bench/pythons.sh

start_target() { # python depth mode -> pid
    fifo=$tmp/fifo.$$.$2.$3
    rm -f "$fifo"; mkfifo "$fifo"
    "$1" bench/targets/deep.py "$2" "$3" >"$fifo" &
    echo $! >>"$tmp/pids"
    read -r _ <"$fifo"
    echo $!
}

for round in $(seq "$ROUNDS"); do
    i=0
    for py in $pythons; do
        i=$((i + 1))
        for depth in 10 50; do
            for mode in park spin; do
                pid=$(start_target "$py" "$depth" "$mode")
                build/bench/stack_read "$pid" "$ITERATIONS" >>"$tmp/r.$i.$depth.$mode"
                kill "$pid"; wait "$pid" 2>/dev/null || true
            done
        done
    done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
echo "| interpreter | python | frames | full read µs (parked / spinning) | full syscalls | fast read µs (parked / spinning) | fast syscalls | torn fast reads (spinning) |"
echo "|---|---|---|---|---|---|---|---|"
i=0
for py in $pythons; do
    i=$((i + 1))
    for depth in 10 50; do
        p=$tmp/r.$i.$depth.park; s=$tmp/r.$i.$depth.spin
        echo "| $py | $(field python <"$p" | head -1) | $(field frames <"$p" | head -1) | $(field full_us <"$p" | median) / $(field full_us <"$s" | median) | $(field full_syscalls <"$s" | median) | $(field fast_us <"$p" | median) / $(field fast_us <"$s" | median) | $(field fast_syscalls <"$s" | median) | $(field fast_errors <"$s" | median)/$ITERATIONS |"
    done
done
