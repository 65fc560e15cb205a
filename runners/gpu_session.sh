#!/usr/bin/env bash
# The one command for the GPU machine (python3 with its own torch, no network, the project not
# installed): installs the carried wheels into a temporary folder, makes `s5bench` importable
# from this checkout (runners/gpu_bootstrap.py), checks the data path's packages, then runs
# `s5bench bench-gpu` under a time limit, its output and a log under the output folder.
#
#   bash runners/gpu_session.sh [bench-gpu options]     # output: $OUT if set, else results/gpu
#
# Environment: OUT (output folder), BENCH_LIMIT_S (hard limit of the bench, default 560 s: the
# bench itself plans for about 500), PYTHON (default python3), GPU_WHEELS (the wheels' folder,
# default gpu_wheels/, filled here by runners/fetch_gpu_wheels.sh).
set -o pipefail
checkout=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$checkout/results/gpu}
py=${PYTHON:-python3}
limit=${BENCH_LIMIT_S:-560}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
{
  echo "== gpu_session $(date -u +%FT%TZ) on $(hostname); checkout $(git -C "$checkout" rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
  shopt -s nullglob
  wheels=("${GPU_WHEELS:-$checkout/gpu_wheels}"/*.whl)
  if ((${#wheels[@]})); then
    # --no-deps: sofar declares numpy < 2.5 (the machine has 2.5); the bench checks a SOFA round trip
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$tmp/site" "${wheels[@]}" \
      || { echo "error: installing the carried wheels failed"; exit 3; }
  else
    echo "warning: no gpu_wheels/*.whl (run runners/fetch_gpu_wheels.sh first); using what python3 has"
  fi
  "$py" "$checkout/runners/gpu_bootstrap.py" "$tmp/ns" >/dev/null || { echo "error: bootstrap failed"; exit 3; }
  export PYTHONPATH="$tmp/ns:$tmp/site${PYTHONPATH:+:$PYTHONPATH}"
  cd "$checkout" || exit 3
  echo "== bench-gpu (limit ${limit} s): $*"
  timeout --signal=INT --kill-after=20 "$limit" "$py" -m s5bench.runners.cli bench-gpu --device cuda --out "$out" "$@"
  rc=$?
  echo "== exit status $rc at $(date -u +%FT%TZ)"
  exit $rc
} 2>&1 | tee "$out/log"
