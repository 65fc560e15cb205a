#!/usr/bin/env bash
# Download (here, where the package registry is reachable) the wheels that the GPU machine's
# python3 (3.12, x86-64, no network) lacks for the project's data path, into gpu_wheels/
# (ignored by git; it travels with the working tree). Then print the size of what would travel.
#   bash runners/fetch_gpu_wheels.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d gpu_wheels \
  soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 sofar==1.3.0 'netCDF4==1.7.5.1.post1' cftime==1.6.6.1 \
  beautifulsoup4==4.15.0 soupsieve==4.1.4 pyroomacoustics==0.10.1
ls -l gpu_wheels
# what travels: tracked + untracked-not-ignored files, plus the carried gpu_wheels/ (limit 64 MiB)
tree=$( { git ls-files -z --cached --others --exclude-standard; } | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
wheels=$(du -cb gpu_wheels/*.whl | tail -1 | cut -f1)
echo "working tree $((tree / 1024 / 1024)) MiB + wheels $((wheels / 1024 / 1024)) MiB = $(((tree + wheels) / 1024 / 1024)) MiB (limit 64 MiB)"
test $((tree + wheels)) -lt $((64 * 1024 * 1024)) || { echo "over the 64 MiB limit" >&2; exit 1; }
