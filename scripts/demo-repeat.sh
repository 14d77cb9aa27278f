#!/usr/bin/env bash
# Run the demo N times in a row (default 20) while the machine is loaded, and report how many passed.
#
#   scripts/demo-repeat.sh [N] [--load test|cpu|none]
#
# --load test (default): `make unit` runs in a loop beside the demos, the load a developer's machine or CI has;
# --load cpu: one busy-looping process per core; --load none: the demos alone.
# Exit 0 only if every run passed. Each failing run's output is kept in demo-repeat-<i>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
LOAD=test
if [ "${2:-}" = "--load" ]; then LOAD=${3:-test}; fi
PY=.venv/bin/python
make -s .venv/.installed >/dev/null

load_pids=()
stop_load() { for pid in "${load_pids[@]:-}"; do [ -n "$pid" ] && kill -- -"$pid" 2>/dev/null; done; }
trap stop_load EXIT
case "$LOAD" in
  test)
    setsid bash -c 'while true; do .venv/bin/pytest -q -m "not azcli and not slow" -p no:cacheprovider >/dev/null 2>&1; done' &
    load_pids+=($!) ;;
  cpu)
    for _ in $(seq "$(nproc)"); do setsid bash -c 'while :; do :; done' & load_pids+=($!); done ;;
  none) ;;
  *) echo "unknown load: $LOAD" >&2; exit 1 ;;
esac

passed=0
failed=0
for i in $(seq "$RUNS"); do
  start=$(date +%s)
  if $PY scripts/demo.py >"demo-repeat-$i.log" 2>&1; then
    passed=$((passed + 1)); rm -f "demo-repeat-$i.log"; verdict=passed
  else
    failed=$((failed + 1)); verdict="FAILED (demo-repeat-$i.log)"
  fi
  echo "run $i/$RUNS: $verdict in $(( $(date +%s) - start )) s (load: $LOAD)"
done
echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
