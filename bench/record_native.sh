#!/bin/sh
# record_native.sh - samples/s and CPU per sample of `record --native`
# against `record` (default pausing) and `record --blocking` (the pause
# --native implies), on one thread parked at Python depth 50, every
# interpreter found; ROUNDS interleaved rounds, medians. Markdown table.
#
#   make bench-native          (ROUNDS=3 RATE=5000 SECONDS=3 by default)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-5000}
SECONDS_=${SECONDS:-3}
. bench/pythons.sh

measure() {
    for how in plain blocking native; do
        extra=""
        [ $how = blocking ] && extra=--blocking
        [ $how = native ] && extra=--native
        /usr/bin/time -f "cpu=%U+%S" build/frametap record $extra --mode wall -r "$RATE" \
            -d "$SECONDS_" -o "$tmp/out.txt" "$pid" 2>"$tmp/err"
        samples=$(sed -n 's/.* \([0-9]*\) samples (.*/\1/p' "$tmp/err" | head -1)
        cpu=$(sed -n 's/^cpu=//p' "$tmp/err")
        echo "$how $samples $cpu" >>"$tmp/r.$i"
    done
}
each_parked 50 measure

echo "| interpreter | record samples/s | record --blocking samples/s | record --native samples/s | CPU µs per sample (record / --blocking / --native) |"
echo "|---|---|---|---|---|"
i=0
for py in $pythons; do
    i=$((i + 1))
    /usr/bin/python3 - "$py" "$tmp/r.$i" "$SECONDS_" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[2]):
    how, samples, cpu = line.split()
    rows.setdefault(how, []).append((int(samples), eval(cpu)))
secs = float(sys.argv[3])
rate = lambda h: statistics.median(s / secs for s, _ in rows[h])
cost = lambda h: statistics.median(c * 1e6 / s for s, c in rows[h])
print("| %s | %.0f | %.0f | %.0f | %.0f / %.0f / %.0f |" % (
    sys.argv[1], rate("plain"), rate("blocking"), rate("native"),
    cost("plain"), cost("blocking"), cost("native")))
PY
done
