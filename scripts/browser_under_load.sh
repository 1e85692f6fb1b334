#!/usr/bin/env bash
# Run browser tests while every core is busy, as on a shared CI machine: one Python
# busy-loop per core in the background (stopped on exit), then pytest, RUNS times.
#   bash scripts/browser_under_load.sh                       # the whole browser tier, 3 runs
#   RUNS=2 bash scripts/browser_under_load.sh tests/test_auth_browser.py -k sql
#   WHOLE_SUITE=1 bash scripts/browser_under_load.sh         # scripts/test.sh (every tier), 3 runs
#   LOADERS=0 WHOLE_SUITE=1 bash scripts/browser_under_load.sh   # no busy loops of its own
# Extra arguments go to pytest (default: the browser tier of tests/). Exits non-zero on the
# first failing run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
LOADERS="${LOADERS:-$(nproc)}"
pids=()
stop_load() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_load EXIT
for _ in $(seq "$LOADERS"); do
    python -c 'while True: pass' &
    pids+=("$!")
done
echo "load: $LOADERS busy loops (pids ${pids[*]})"
args=("$@")
for run in $(seq "$RUNS"); do
    echo "== run $run of $RUNS (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S))"
    if [ "${WHOLE_SUITE:-0}" = 1 ]; then
        bash scripts/test.sh "${args[@]}"
    else
        if [ ${#args[@]} -eq 0 ]; then args=(tests/); fi
        python -m pytest -q -p no:cacheprovider -m browser "${args[@]}"
    fi
    echo "== run $run passed (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S))"
done
