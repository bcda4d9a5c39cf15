#!/usr/bin/env bash
# Runs every trigger synchronisation benchmark of docs/benchmarks.md and prints one result line
# per run. Each run starts and stops its own oscrig-sim on 127.0.0.1 and fires a fixed number
# of shots, so the whole script ends on its own (about ten minutes on 2 cores).
#
# Usage: tools/bench/sync_bench.sh BUILD_DIR [SHOTS]
set -euo pipefail

build_dir=${1:?usage: sync_bench.sh BUILD_DIR [SHOTS]}
shots=${2:-50}
bench="$build_dir/tools/bench/bench_sync"
sim="$build_dir/tools/sim/oscrig-sim"

for binary in "$bench" "$sim"; do
    if [[ ! -x "$binary" ]]; then
        echo "sync_bench.sh: $binary not found; build the bench_sync and oscrig-sim targets" >&2
        exit 64
    fi
done

run() {
    echo "+ bench_sync $*" >&2
    "$bench" "$@"
}

# No injected delay: every trigger method at 4, 16 and 64 cameras.
for cameras in 4 16 64; do
    for method in staged none sequential fresh; do
        run trigger --sim "$sim" --method "$method" --cameras "$cameras" --shots "$shots"
    done
done

# One-way delays spread from 2 to 40 ms with 1 ms of jitter per direction, staged release with
# and without delay compensation.
for cameras in 4 16; do
    run trigger --sim "$sim" --method staged --cameras "$cameras" --shots "$shots" \
        --delay-min-ms 2 --delay-max-ms 40 --jitter-us 1000
    run trigger --sim "$sim" --method staged --cameras "$cameras" --shots "$shots" \
        --delay-min-ms 2 --delay-max-ms 40 --jitter-us 1000 --no-compensation
done

# Clock model: 100 ppm drift, round trips jittered by up to 20 ms (10 ms per direction),
# 60 s of samples at one per second and at the health poll's one per 5 s.
run clock --drift-ppm 100 --jitter-us 10000 --duration-s 60 --interval-ms 1000
run clock --drift-ppm 100 --jitter-us 10000 --duration-s 60 --interval-ms 5000
run clock --drift-ppm 100 --jitter-us 10000 --duration-s 60 --interval-ms 100
