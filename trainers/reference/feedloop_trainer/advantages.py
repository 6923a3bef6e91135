"""Advantage estimators for `policy_update`, registered by name (hyperparameter `advantage`).

  batch   (default) rewards normalised over the whole batch: today's PPO-style update
  grpo    per-prompt group: (r - group mean) / (group std + eps), as GRPO; `scale_rewards: false`
          drops the division (Dr. GRPO)
  rloo    per-prompt group, leave-one-out: r - mean of the group's other rewards (RLOO)

A row whose reward is null (unscorable) is left out of every mean and std and gets advantage 0,
as TRL does with a None reward: it is never scored as 0. A group of one has nothing to compare
with, so its advantage is 0 under grpo and rloo.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import torch

from .protocol import TrainerError

EPS = 1e-8
Rows = list[dict[str, Any]]


def _rewards(rows: Rows) -> tuple[torch.Tensor, torch.Tensor]:
    """the rewards (0 where unscorable) and the mask of scored rows"""
    scored = torch.tensor([r.get("reward") is not None for r in rows])
    values = torch.tensor([float(r["reward"]) if r.get("reward") is not None else 0.0 for r in rows])
    return values, scored


def _group_key(row: dict[str, Any]) -> str:
    """rollouts of one prompt form a group; a dataset may name its groups explicitly"""
    return str(row.get("group", row["prompt"]))


def _groups(rows: Rows, scored: torch.Tensor) -> list[list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if scored[i]:
            by_key[_group_key(r)].append(i)
    return list(by_key.values())


def batch_advantages(rows: Rows, hp: dict[str, Any]) -> torch.Tensor:
    r, scored = _rewards(rows)
    adv = torch.zeros(len(rows))
    if int(scored.sum()) > 1:
        s = r[scored]
        adv[scored] = (s - s.mean()) / (s.std(unbiased=False) + EPS)
    return adv


def grpo_advantages(rows: Rows, hp: dict[str, Any]) -> torch.Tensor:
    r, scored = _rewards(rows)
    scale = bool(hp.get("scale_rewards", True))
    adv = torch.zeros(len(rows))
    for idx in _groups(rows, scored):
        if len(idx) < 2:
            continue
        g = r[idx]
        centred = g - g.mean()
        adv[idx] = centred / (g.std(unbiased=False) + EPS) if scale else centred
    return adv


def rloo_advantages(rows: Rows, hp: dict[str, Any]) -> torch.Tensor:
    r, scored = _rewards(rows)
    adv = torch.zeros(len(rows))
    for idx in _groups(rows, scored):
        k = len(idx)
        if k < 2:
            continue
        g = r[idx]
        adv[idx] = g - (g.sum() - g) / (k - 1)
    return adv


ADVANTAGES: dict[str, Callable[[Rows, dict[str, Any]], torch.Tensor]] = {
    "batch": batch_advantages,
    "grpo": grpo_advantages,
    "rloo": rloo_advantages,
}


def advantages_for(rows: Rows, hp: dict[str, Any]) -> torch.Tensor:
    name = str(hp.get("advantage", "batch"))
    if name not in ADVANTAGES:
        raise TrainerError("BadConfig", f"hyperparameters.advantage must be one of {', '.join(ADVANTAGES)}, got {name!r}")
    return ADVANTAGES[name](rows, hp)
