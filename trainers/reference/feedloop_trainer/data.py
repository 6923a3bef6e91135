"""Datasets (JSONL) for the three job kinds, and a resumable, deterministic batch order."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from .protocol import TrainerError

REQUIRED = {
    "sft": [("prompt", "completion")],
    "reward_model": [("prompt", "program", "score"), ("prompt", "chosen", "rejected")],
    "policy_update": [("prompt", "completion", "reward")],
}


def load_rows(path: str, kind: str) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise TrainerError("BadConfig", f"dataset not found: {path}")
    rows = []
    with p.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise TrainerError("BadData", f"{path}:{n}: not JSON ({e})") from e
    if not rows:
        raise TrainerError("BadData", f"{path}: no examples")
    shapes = REQUIRED[kind]
    for n, row in enumerate(rows, 1):
        if not any(all(k in row for k in shape) for shape in shapes):
            want = " or ".join("{" + ", ".join(s) + "}" for s in shapes)
            raise TrainerError("BadData", f"{path}: example {n} lacks the fields of a {kind} example: {want}")
    return rows


class BatchOrder:
    """Epoch e visits the examples in a permutation seeded by (seed, e). A step number alone
    locates its batch, so a resumed run continues at exactly the next batch."""

    def __init__(self, n_examples: int, batch_size: int, seed: int):
        self.n = n_examples
        self.batch_size = batch_size
        self.seed = seed
        self.batches_per_epoch = math.ceil(n_examples / batch_size)

    def batch(self, step: int) -> list[int]:
        epoch, index = divmod(step, self.batches_per_epoch)
        g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
        perm = torch.randperm(self.n, generator=g).tolist()
        return perm[index * self.batch_size : (index + 1) * self.batch_size]
