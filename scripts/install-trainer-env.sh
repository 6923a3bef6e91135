#!/usr/bin/env bash
# Installs the reference trainer's Python packages (trainers/reference/requirements.txt) into a
# virtual environment under the project's tools directory, and prints its path:
#
#   bash scripts/install-trainer-env.sh        # -> .feedloop/tools/trainer-venv
#
# The venv is keyed by a hash of the requirements file: a second run with the same file reuses it
# (seconds), a changed file rebuilds it. uv resolves and installs; its download cache
# (UV_CACHE_DIR, default ~/.cache/uv) means a fresh clone on the same machine downloads nothing.
#
# PyPI carries only the CUDA build of torch for Linux (the CPU-only wheels live on PyTorch's own
# index, which is not reachable here), and that build does not import without its nvidia-* and
# cuda-* packages, so they are installed too: about 4.5 GB, CPU execution works as is.
set -euo pipefail
source "$(dirname "$0")/uv-env.sh"
REQS="$ROOT/trainers/reference/requirements.txt"
VENV="$TOOLS/trainer-venv"
PYTHON="${FEEDLOOP_TRAINER_PYTHON:-python3}"

key="$(sha256sum "$REQS" | cut -c1-16)"
stamp="$VENV/.feedloop-requirements-sha256"
# One install at a time: test files that need the venv run in parallel, and a second one must
# wait for the first install rather than remove the venv under it.
exec 9> "$TOOLS/.trainer-venv.lock"
flock 9
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  echo "$VENV"
  exit 0
fi

log() { echo "install-trainer-env: $*" >&2; }

started=$(date +%s)
log "building $VENV for requirements $key (first time: several GB of torch/CUDA wheels)"
# the stamp is written last: an interrupted install leaves none, and the next run starts over
rm -rf "$VENV"
"$UV" venv --quiet --python "$PYTHON" "$VENV"
VIRTUAL_ENV="$VENV" "$UV" pip install --quiet -r "$REQS"
echo "$key" > "$stamp"
log "done in $(( $(date +%s) - started )) s, $(du -sh "$VENV" | cut -f1)"
echo "$VENV"
