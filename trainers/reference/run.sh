#!/usr/bin/env bash
# Runs the reference trainer with the Python of its venv (scripts/install-trainer-env.sh), so a
# campaign can name it as its trainer command:
#   trainer: { type: 'command', argv: [bash, trainers/reference/run.sh] }
# The job spec comes as the last argument or in FEEDLOOP_JOB_SPEC, as for train.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${FEEDLOOP_TOOLS_DIR:-${FEEDLOOP_HOME:-$ROOT/.feedloop}/tools}/trainer-venv/bin/python"
if [ ! -x "$PY" ]; then
  # one protocol error line on stdout, so the activity fails with a clear, non-retryable reason
  printf '{"event":"error","errorClass":"BadConfig","message":"the reference trainer venv is missing (%s): run bash scripts/install-trainer-env.sh","retryable":false}\n' "$PY"
  exit 2
fi
exec "$PY" "$ROOT/trainers/reference/train.py" "$@"
