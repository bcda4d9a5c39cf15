#!/usr/bin/env bash
# Browser test of the dashboard against a real rig: starts oscrig-sim with 4 cameras and
# `oscrig serve` on loopback, then drives the page in headless Chromium (dashboard_test.mjs).
# Exits 77 (skipped) when Chromium, Node.js or playwright-core is missing.
# Usage: run_dashboard_test.sh OSCRIG_BINARY SIM_BINARY OUTPUT_DIR
set -euo pipefail

oscrig=${1:?usage: run_dashboard_test.sh OSCRIG_BINARY SIM_BINARY OUTPUT_DIR}
sim=${2:?usage: run_dashboard_test.sh OSCRIG_BINARY SIM_BINARY OUTPUT_DIR}
output=${3:?usage: run_dashboard_test.sh OSCRIG_BINARY SIM_BINARY OUTPUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

for tool in node /usr/bin/chromium; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: $tool is not installed (tools/install-deps --browser installs it)"
        exit 77
    fi
done
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
    echo "skipped: playwright-core is missing; run npm install in $here"
    exit 77
fi

work=$(mktemp -d /tmp/oscrig-browser.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for_line() {  # FILE PATTERN SECONDS
    for _ in $(seq 1 $(($3 * 10))); do
        if grep -q "$2" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "timed out waiting for \"$2\" in $1:" >&2
    cat "$1" >&2 || true
    return 1
}

"$sim" --cameras 4 --base-port 0 --write-rig "$work/rig.yaml" --output "$work/shots" \
    >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
wait_for_line "$work/sim.out" "^oscrig-sim: ready" 20
echo "health_interval: 1s" >>"$work/rig.yaml"

# Port 0 lets the kernel pick a free port; serve logs the one it bound.
"$oscrig" serve "$work/rig.yaml" --web.listen-address 127.0.0.1:0 \
    >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for_line "$work/serve.log" "dashboard listening on http://" 30
port=$(grep -o "dashboard listening on http://[0-9.]*:[0-9]*" "$work/serve.log" | head -1 |
    sed 's/.*://')
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then
        break
    fi
    sleep 0.2
done

stop_port=$(grep "port:" "$work/rig.yaml" | sed -n 4p | awk '{print $2}')
mkdir -p "$output"
node "$here/dashboard_test.mjs" --url "http://127.0.0.1:$port/" \
    --screenshot "$output/dashboard.png" \
    --stop-url "http://127.0.0.1:$stop_port/sim/stop" --stop-camera cam4 --cameras 4
