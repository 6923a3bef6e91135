#!/usr/bin/env bash
# The GPU check, for a CUDA host (e.g. one H200): run it from the project root after `npm ci`:
#
#   bash scripts/gpu-check.sh
#
# Checks, on the tiny code model (made here, 40 steps, CPU):
#   1. the reference trainer's `sft` (ILF) and `reward_model` + `policy_update` (RLAIF) on CUDA
#      (hyperparameters.device: cuda), through the trainer protocol;
#   2. the onnx backend with the CUDA execution provider sampling the policy and its exports, and
#      scoring with the reward model; greedy generations of the sft export on CUDA equal the CPU's;
#   3. a GPU worker of this host picking that work from the GPU queue (the job rows name its queue).
# Fails at once, with one line saying what is missing, when there is no CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "gpu-check: $*" >&2; exit 2; }

command -v nvidia-smi > /dev/null || die "no nvidia-smi: this host has no NVIDIA driver, so no CUDA; run this on a GPU host"
nvidia-smi -L | grep -q '^GPU ' || die "nvidia-smi lists no GPU: $(nvidia-smi -L 2>&1 | head -1)"
nvidia-smi -L

# The reference trainer's venv (PyPI's Linux torch is a CUDA build) and a torch that sees the GPU.
PY="$(bash scripts/install-trainer-env.sh | tail -1)/bin/python"
"$PY" - <<'PY' || die "the trainer's torch sees no CUDA device (see the line above)"
import sys, torch
if not torch.cuda.is_available():
    print(f"torch {torch.__version__} (CUDA build {torch.version.cuda}): torch.cuda.is_available() is False", file=sys.stderr)
    sys.exit(1)
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
PY

# onnxruntime-node's CUDA execution provider: binaries outside the npm package
# (activities/models/README-gpu.md says how to install them on a host that can reach NuGet).
EP_DIR=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
if [ ! -f "$EP_DIR/libonnxruntime_providers_cuda.so" ]; then
  ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js > /dev/null 2>&1 || true
fi
[ -f "$EP_DIR/libonnxruntime_providers_cuda.so" ] \
  || die "onnxruntime-node's CUDA execution provider is missing ($EP_DIR/libonnxruntime_providers_cuda.so): see activities/models/README-gpu.md"

export FEEDLOOP_GPUS="${FEEDLOOP_GPUS:-$(nvidia-smi -L | grep -c '^GPU ')}"
exec npx tsx scripts/gpu-check.ts
