#!/usr/bin/env bash
# Download benchmark of docs/benchmarks.md: peak memory and download time of `oscrig shoot
# --video` against simulated cameras (8 by default) with one large video each, compared with curl
# fetching the same files in parallel.
#
# Each run records a video on every camera with `oscrig shoot` under /usr/bin/time -v, takes
# the download phase from the GET records in shot.json, then fetches the same file URLs with one
# `curl -s -o` process per camera, all started together. Only 127.0.0.1 is contacted. The
# script builds nothing: build the `oscrig` and `oscrig-sim` targets first, in Release mode.
#
# Usage: tools/bench/bench_download.sh [options] [BUILD_DIR]   (BUILD_DIR defaults to build)
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tools/bench/bench_download.sh [options] [BUILD_DIR]

Runs oscrig shoot --video and parallel curl downloads against oscrig-sim on 127.0.0.1 and
prints every run, the medians, the ratio and whether each goal is met.

  --cameras N        simulated cameras (default 8)
  --video-bytes N    size of every video file in bytes (default 300000000)
  --flavour KIND     camera kind: theta (one file per video, default) or insta360 (two lens
                     files per video, each of --video-bytes)
  --runs N           runs of both clients (default 3)
  --work-dir DIR     folder under which a temporary folder for the downloads is made and
                     removed at exit (default /tmp)
  --max-rss-mib N    goal: peak RSS of oscrig shoot below N MiB (default 64)
  --max-ratio R      goal: oscrig download time at most R times the curl time (default 1.3)
  --settle-s S       pause before each client, after sync (default 3): freed memory settles
                     the same way for both clients
  -h, --help         prints this text
EOF
}

cameras=8
video_bytes=300000000
flavour=theta
runs=3
work_parent=/tmp
max_rss_mib=64
max_ratio=1.3
settle_s=3
build_dir=build

while [[ $# -gt 0 ]]; do
    case "$1" in
        --cameras) cameras=${2:?--cameras needs a value}; shift 2 ;;
        --video-bytes) video_bytes=${2:?--video-bytes needs a value}; shift 2 ;;
        --flavour) flavour=${2:?--flavour needs a value}; shift 2 ;;
        --runs) runs=${2:?--runs needs a value}; shift 2 ;;
        --work-dir) work_parent=${2:?--work-dir needs a value}; shift 2 ;;
        --max-rss-mib) max_rss_mib=${2:?--max-rss-mib needs a value}; shift 2 ;;
        --max-ratio) max_ratio=${2:?--max-ratio needs a value}; shift 2 ;;
        --settle-s) settle_s=${2:?--settle-s needs a value}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "bench_download.sh: unknown option $1; see --help" >&2; exit 64 ;;
        *) build_dir=$1; shift ;;
    esac
done

for number in "$cameras" "$video_bytes" "$runs" "$max_rss_mib"; do
    if ! [[ "$number" =~ ^[1-9][0-9]*$ ]]; then
        echo "bench_download.sh: invalid count \"$number\": use a positive whole number" >&2
        exit 64
    fi
done
if ! [[ "$max_ratio" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    echo "bench_download.sh: invalid --max-ratio \"$max_ratio\": use a number such as 1.3" >&2
    exit 64
fi
if ! [[ "$settle_s" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    echo "bench_download.sh: invalid --settle-s \"$settle_s\": use seconds such as 3" >&2
    exit 64
fi
if [[ "$flavour" != theta && "$flavour" != insta360 ]]; then
    echo "bench_download.sh: invalid --flavour \"$flavour\": use theta or insta360" >&2
    exit 64
fi

oscrig="$build_dir/cli/oscrig"
sim="$build_dir/tools/sim/oscrig-sim"
for binary in "$oscrig" "$sim"; do
    if [[ ! -x "$binary" ]]; then
        echo "bench_download.sh: $binary not found; build the oscrig and oscrig-sim targets" >&2
        exit 64
    fi
done
for tool in /usr/bin/time curl jq sha256sum; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench_download.sh: $tool not found; run tools/install-deps" >&2
        exit 69
    fi
done
if grep -q 'CMAKE_BUILD_TYPE:STRING=Debug' "$build_dir/CMakeCache.txt" 2>/dev/null; then
    echo "bench_download.sh: warning: $build_dir is a Debug build, so the figures do not" \
        "show an optimised build" >&2
fi

work=$(mktemp -d "$work_parent/bench-download.XXXXXX")
sim_pid=""
shoot_pid=""
curl_pids=()

# Sends SIGTERM to the children of /usr/bin/time process $1, then to that process, because
# GNU time does not pass a signal on, so ending it alone leaves the measured command running.
stop_timed() {
    local child
    for child in $(pgrep -P "$1" || true); do
        kill -TERM "$child" 2>/dev/null || true
    done
    kill -TERM "$1" 2>/dev/null || true
}

# Stops the simulator and any oscrig or curl still running, then removes every downloaded file.
cleanup() {
    local pid
    for pid in "${curl_pids[@]}" $shoot_pid; do
        stop_timed "$pid"
    done
    for pid in "${curl_pids[@]}" $shoot_pid; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$sim_pid" ]]; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ns() {
    date +%s%N
}

# Writes back the dirty pages of earlier downloads and pauses, so that each client starts with
# no writeback running. On a virtual machine that hands freed memory back to its host (free
# page reporting), the pause also leaves freed page-cache memory in the same state for both
# clients: a page first written after it was handed back costs several times more.
settle() {
    sync
    sleep "$settle_s"
}

# Prints the median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- Simulator ---------------------------------------------------------------------------
cat >"$work/sim.yaml" <<EOF
defaults:
  video_bytes: $video_bytes
EOF
"$sim" --cameras "$cameras" --base-port 0 --host 127.0.0.1 --flavour "$flavour" \
    --config "$work/sim.yaml" --write-rig "$work/rig.yaml" --output "$work/shots" \
    --log.level warn >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
ready_line=""
for _ in $(seq 1 300); do
    ready_line=$(grep -m1 '^oscrig-sim: ready' "$work/sim.out" || true)
    if [[ -n "$ready_line" ]] || ! kill -0 "$sim_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [[ -z "$ready_line" ]]; then
    echo "bench_download.sh: oscrig-sim printed no ready line within 30 s:" >&2
    cat "$work/sim.log" >&2
    exit 1
fi
echo "$ready_line" >&2

# ---- Runs --------------------------------------------------------------------------------
declare -a oscrig_download_s oscrig_command_s oscrig_cpu_s curl_s curl_cpu_s rss_kib
total_bytes=0
mib=$((1024 * 1024))

for run in $(seq 1 "$runs"); do
    shots="$work/shots-$run"
    echo "run $run of $runs: oscrig shoot --video 1s" >&2

    settle
    started=$(now_ns)
    status=0
    # Started in the background, so that a signal reaches the trap without waiting for the shot.
    /usr/bin/time -v -o "$work/time-$run.txt" \
        "$oscrig" shoot "$work/rig.yaml" --video 1s --output "$shots" --log.level info \
        >"$work/shoot-$run.out" 2>"$work/shoot-$run.log" &
    shoot_pid=$!
    wait "$shoot_pid" || status=$?
    ended=$(now_ns)
    shoot_pid=""
    if [[ $status -ne 0 ]]; then
        echo "bench_download.sh: oscrig shoot exited with $status; its output:" >&2
        cat "$work/shoot-$run.out" "$work/shoot-$run.log" >&2
        exit 1
    fi
    report=$(echo "$shots"/*/shot.json)
    if [[ ! -f "$report" ]]; then
        echo "bench_download.sh: no shot.json under $shots" >&2
        exit 1
    fi

    # The download phase runs from the first file request sent to the last one complete.
    # File requests are the GETs outside /osc/, and their times are wall clock microseconds.
    span_us=$(jq '[.cameras[].requests[] | select(.method == "GET"
                       and (.target | startswith("/osc/") | not))]
                  | (map(.received_us) | max) - (map(.sent_us) | min)' "$report")
    file_count=$(jq '[.cameras[].files[] | select(.error == "")] | length' "$report")
    total_bytes=$(jq '[.cameras[].files[].bytes] | add' "$report")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time-$run.txt")
    oscrig_download_s[run]=$(awk -v us="$span_us" 'BEGIN { printf "%.2f", us / 1e6 }')
    oscrig_command_s[run]=$(awk -v a="$started" -v b="$ended" \
        'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    rss_kib[run]=$rss
    # CPU time (user plus system) depends far less than wall time on other load of the cores.
    oscrig_cpu_s[run]=$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f", t }' \
        "$work/time-$run.txt")

    # One curl per camera fetches that camera's files one after another, as oscrig does.
    mkdir -p "$work/curl-$run" "$work/cpu-$run"
    jq -r '.cameras[] | .name + " " + ([.files[].url] | join(" "))' "$report" \
        >"$work/urls-$run.txt"
    jq -r '.cameras[] | .name as $camera
           | .files[] | .sha256 + "  " + $camera + "/" + (.url | split("/") | last)' "$report" \
        | sort >"$work/expected-$run.sha256"
    rm -rf "$shots"
    settle

    echo "run $run of $runs: $cameras parallel curl processes" >&2
    curl_pids=()
    started=$(now_ns)
    while read -r camera urls; do
        arguments=()
        for url in $urls; do
            case "$url" in
                http://127.0.0.1:*) ;;
                *) echo "bench_download.sh: not a loopback URL: $url" >&2; exit 1 ;;
            esac
            arguments+=(-o "$work/curl-$run/$camera/${url##*/}" "$url")
        done
        /usr/bin/time -f '%U %S' -o "$work/cpu-$run/$camera" \
            curl -s --fail --noproxy '*' --create-dirs "${arguments[@]}" </dev/null &
        curl_pids+=($!)
    done <"$work/urls-$run.txt"
    failed=0
    for pid in "${curl_pids[@]}"; do
        wait "$pid" || failed=$((failed + 1))
    done
    ended=$(now_ns)
    curl_pids=()
    if [[ $failed -ne 0 ]]; then
        echo "bench_download.sh: $failed curl processes failed" >&2
        exit 1
    fi
    curl_s[run]=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    curl_cpu_s[run]=$(cat "$work/cpu-$run"/* | awk '{ t += $1 + $2 } END { printf "%.2f", t }')

    # Both clients must have fetched the same bytes. Hashing is outside the timed part.
    (cd "$work/curl-$run" && sha256sum -- */*) | sort >"$work/curl-$run.sha256"
    if ! diff -q "$work/expected-$run.sha256" "$work/curl-$run.sha256" >/dev/null; then
        echo "bench_download.sh: curl files differ from the SHA-256 sums in shot.json" >&2
        exit 1
    fi
    rm -rf "$work/curl-$run"

    printf 'run %d: %d files, %d MB, oscrig download %s s (command %s s, CPU %s s), ' \
        "$run" "$file_count" $((total_bytes / 1000000)) "${oscrig_download_s[run]}" \
        "${oscrig_command_s[run]}" "${oscrig_cpu_s[run]}" >&2
    printf 'peak RSS %d KiB, curl %s s (CPU %s s)\n' "$rss" "${curl_s[run]}" \
        "${curl_cpu_s[run]}" >&2
done

# ---- Summary -----------------------------------------------------------------------------
median_download=$(median "${oscrig_download_s[@]}")
median_command=$(median "${oscrig_command_s[@]}")
median_curl=$(median "${curl_s[@]}")
median_oscrig_cpu=$(median "${oscrig_cpu_s[@]}")
median_curl_cpu=$(median "${curl_cpu_s[@]}")
median_rss=$(median "${rss_kib[@]}")
max_rss=$(printf '%s\n' "${rss_kib[@]}" | sort -n | tail -1)
ratio=$(awk -v a="$median_download" -v b="$median_curl" 'BEGIN { printf "%.2f", a / b }')
max_rss_kib=$((max_rss_mib * 1024))

echo
echo "| run | oscrig download (s) | oscrig command (s) | oscrig CPU (s) | oscrig peak RSS (MiB)" \
    "| curl (s) | curl CPU (s) |"
echo "|---|---|---|---|---|---|---|"
for run in $(seq 1 "$runs"); do
    printf '| %d | %s | %s | %s | %.1f | %s | %s |\n' "$run" "${oscrig_download_s[run]}" \
        "${oscrig_command_s[run]}" "${oscrig_cpu_s[run]}" \
        "$(awk -v k="${rss_kib[run]}" 'BEGIN { print k / 1024 }')" "${curl_s[run]}" \
        "${curl_cpu_s[run]}"
done
printf '| median | %s | %s | %s | %.1f | %s | %s |\n' "$median_download" "$median_command" \
    "$median_oscrig_cpu" "$(awk -v k="$median_rss" 'BEGIN { print k / 1024 }')" \
    "$median_curl" "$median_curl_cpu"
echo
echo "$cameras cameras ($flavour), $((total_bytes / 1000000)) MB per run, $runs runs"
echo "ratio of medians, oscrig download / curl: $ratio"
echo "ratio of medians, oscrig CPU (whole command) / curl CPU:" \
    "$(awk -v a="$median_oscrig_cpu" -v b="$median_curl_cpu" 'BEGIN { printf "%.2f", a / b }')"

if [[ $max_rss -lt $max_rss_kib ]]; then
    rss_verdict="met"
else
    rss_verdict="not met"
fi
if awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { exit !(r <= m) }'; then
    ratio_verdict="met"
else
    ratio_verdict="not met"
fi
printf 'goal peak RSS < %d MiB: %s (highest run %.1f MiB)\n' "$max_rss_mib" "$rss_verdict" \
    "$(awk -v k="$max_rss" 'BEGIN { print k / 1024 }')"
printf 'goal download time <= %s x curl: %s (%s x)\n' "$max_ratio" "$ratio_verdict" "$ratio"
