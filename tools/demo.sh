#!/bin/sh
# demo.sh - `make demo`: starts examples/busy_service.py on the newest CPython
# found here, dumps its threads with frametap, records it for 3 seconds into
# a flame graph (and a speedscope file), then stops it; then traces
# examples/orders.py from inside (every call inside handle_order).
set -eu
cd "$(dirname "$0")/.."
python=""
for p in /opt/pythons/bin/python3.15 /opt/pythons/bin/python3.14 /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1; then python=$p; break; fi
done
[ -n "$python" ] || { echo "demo: no python3 found" >&2; exit 1; }
fifo=$(mktemp -u)
mkfifo "$fifo"
"$python" examples/busy_service.py >"$fifo" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$fifo"' EXIT
read -r ready <"$fifo"
[ "$ready" = READY ] || { echo "demo: example did not start" >&2; exit 1; }
sleep 0.5
echo "\$ build/frametap dump $pid      # $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
build/frametap dump "$pid"
echo
echo "\$ build/frametap record --duration 3 --rate 250 -o build/demo-flamegraph.svg -o build/demo.speedscope.json $pid"
build/frametap record --duration 3 --rate 250 -o build/demo-flamegraph.svg -o build/demo.speedscope.json "$pid"
echo
echo "flame graph: $(pwd)/build/demo-flamegraph.svg (open it in a browser)"
echo "speedscope:  $(pwd)/build/demo.speedscope.json (drop it on the speedscope app)"
echo
tools/build-python.sh "$python" >/dev/null
echo "\$ build/frametap trace --within handle_order -o build/demo-trace.txt -o build/demo-trace.json -- $python examples/orders.py"
build/frametap trace --within handle_order -o build/demo-trace.txt -o build/demo-trace.json -- "$python" examples/orders.py
echo "\$ head -n 16 build/demo-trace.txt"
head -n 16 build/demo-trace.txt
echo
echo "call hierarchy: $(pwd)/build/demo-trace.txt; Chrome trace: $(pwd)/build/demo-trace.json (Perfetto, speedscope)"
