#!/bin/sh
# native_cost.sh - runs build/bench/native_cost on every interpreter found,
# on a thread parked at Python depth 50 (bench/targets/deep.py), ROUNDS
# times interleaved; prints a markdown table of the medians.
#
#   make bench-native          (ROUNDS=3 ITERATIONS=200 by default)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
ITERATIONS=${ITERATIONS:-200}
. bench/pythons.sh

measure() {
    build/bench/native_cost "$pid" "$ITERATIONS" >>"$tmp/r.$i"
}
each_parked 50 measure

echo "| interpreter | Python frames | native frames | session ms | first collect ms | first unwind µs | warm collect µs | warm unwind µs | µs per native frame |"
echo "|---|---|---|---|---|---|---|---|---|"
i=0
for py in $pythons; do
    i=$((i + 1))
    /usr/bin/python3 - "$py" "$tmp/r.$i" <<'PY'
import statistics, sys
rows = [dict(kv.split("=") for kv in line.split()) for line in open(sys.argv[2])]
med = lambda k: statistics.median(float(r[k]) for r in rows)
print("| %s | %s | %s | %.2f | %.2f | %.0f | %.0f | %.0f | %.2f |" % (
    sys.argv[1], rows[0]["python_frames"], rows[0]["native_frames"], med("setup_ms"),
    med("first_collect_ms"), med("first_unwind_us_per_thread"),
    med("warm_collect_us_per_thread"), med("warm_unwind_us_per_thread"),
    med("warm_unwind_us_per_frame")))
PY
done
