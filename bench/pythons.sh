# pythons.sh - sourced by the benchmark scripts: $pythons lists every
# interpreter the tests know that is installed here (pyenv 3.8-3.13, then
# Debian's 3.11, 3.14 and 3.15), and $tmp is a scratch directory removed,
# with the targets whose pids are in $tmp/pids, when the script exits.
pyroot=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
pythons=""
for m in 3.8 3.9 3.10 3.11 3.12 3.13; do
    p=$(ls -d "$pyroot"/versions/$m.*/bin/python 2>/dev/null | sort -V | tail -n 1)
    [ -n "$p" ] && pythons="$pythons $p"
done
for p in /usr/bin/python3.11 /opt/pythons/bin/python3.14 /opt/pythons/bin/python3.15; do
    [ -x "$p" ] && pythons="$pythons $p"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(cat "$tmp"/pids 2>/dev/null) 2>/dev/null || true' EXIT

# each_parked DEPTH COMMAND: ROUNDS times, for each interpreter in turn
# (the i-th in $i, its path in $py), runs COMMAND with $pid a target
# parked at DEPTH Python frames (bench/targets/deep.py), then ends it.
each_parked() {
    for round in $(seq "$ROUNDS"); do
        i=0
        for py in $pythons; do
            i=$((i + 1))
            start_parked "$py" "$1"
            "$2"
            kill "$pid"; wait "$pid" 2>/dev/null || true
        done
    done
}

start_parked() {
    fifo=$tmp/fifo.parked
    rm -f "$fifo"; mkfifo "$fifo"
    "$1" bench/targets/deep.py "$2" park >"$fifo" &
    pid=$!
    echo $pid >>"$tmp/pids"
    read -r _ <"$fifo"
    sleep 0.3 # READY is printed just before the thread parks
}
