#!/usr/bin/env python3
"""feedloop's reference trainer: `python train.py <job-spec.json>` (or FEEDLOOP_JOB_SPEC).

Implements trainers/PROTOCOL.md with Hugging Face transformers (+ optional PEFT LoRA) for the
job kinds sft, reward_model and policy_update. Loads models from local directories only.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from feedloop_trainer.loop import train  # noqa: E402
from feedloop_trainer.protocol import run_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_main(train, sys.argv))
