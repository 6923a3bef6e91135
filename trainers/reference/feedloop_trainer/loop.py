"""The resumable training loop shared by every job kind.

A checkpoint holds what an exact resume needs: weights (or the LoRA adapter), optimizer,
scheduler, RNG states and the step, in a Hugging Face style `checkpoint-N` directory. The batch
order is a function of the step (data.BatchOrder), so the data position is never lost.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import get_linear_schedule_with_warmup

from .data import BatchOrder, load_rows
from .causal_lm_export import export_causal_lm
from .export import export_reward_model
from .kinds import make_task, save_model
from .protocol import TrainerError, emit, publish_dir


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def train(spec: dict[str, Any]) -> None:
    hp: dict[str, Any] = spec.get("hyperparameters") or {}
    kind = spec["kind"]
    out = Path(spec["outputDir"])
    out.mkdir(parents=True, exist_ok=True)
    seed = int(hp.get("seed", 0))
    batch_size = int(hp.get("batch_size", 8))
    if batch_size < 1:
        raise TrainerError("BadConfig", f"hyperparameters.batch_size must be >= 1, got {batch_size}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

    for field in ("baseModel",) + (("resumeFromCheckpoint",) if spec.get("resumeFromCheckpoint") else ()):
        if not Path(spec[field]).is_dir():
            raise TrainerError("BadConfig", f"{field} {spec[field]} is not a directory (the reference trainer loads local models only)")
    rows = load_rows(spec["datasetPath"], kind)
    task = make_task(kind, spec, hp, rows)
    model = task.model
    print(f"trainer: {kind} on device {getattr(task, 'device', 'cpu')}", flush=True)
    order = BatchOrder(len(rows), batch_size, seed)
    epochs = int(hp.get("ppo_epochs" if kind == "policy_update" else "epochs", 1))
    total = int(hp.get("max_steps") or epochs * order.batches_per_epoch)
    every = int(hp.get("checkpoint_every", max(1, math.ceil(total / 10))))

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=float(hp.get("learning_rate", 5e-5)), weight_decay=float(hp.get("weight_decay", 0.0)))
    sched = get_linear_schedule_with_warmup(opt, int(hp.get("warmup_steps", 0)), total)
    step = 0
    history: list[dict[str, float]] = []
    resume = spec.get("resumeFromCheckpoint")
    if resume:
        ckpt = Path(resume)
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt"))
        sched.load_state_dict(torch.load(ckpt / "scheduler.pt"))
        _set_rng_state(torch.load(ckpt / "rng_state.pth", weights_only=False))
        state = json.loads((ckpt / "trainer_state.json").read_text())
        step, history = int(state["global_step"]), state.get("log_history", [])
        print(f"trainer: resumed from {ckpt} at step {step} of {total}", flush=True)

    def save_checkpoint(directory: Path) -> None:
        save_model(model, task.tok, directory)
        torch.save(opt.state_dict(), directory / "optimizer.pt")
        torch.save(sched.state_dict(), directory / "scheduler.pt")
        torch.save(_rng_state(), directory / "rng_state.pth")
        (directory / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": total, "kind": kind, "seed": seed, "log_history": history}))

    model.train()
    last: dict[str, float] = {}
    while step < total:
        batch = [rows[i] for i in order.batch(step)]
        loss, metrics = task.loss(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, float(hp.get("max_grad_norm", 1.0)))
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        last = {"loss": loss.item(), **metrics}
        history.append({"step": step, **last})
        emit("progress", step=step, totalSteps=total, loss=last["loss"])
        if step % every == 0 or step == total:
            path = publish_dir(out, f"checkpoint-{step}", save_checkpoint, marker={"step": step})
            emit("checkpoint", step=step, path=str(path))

    exports = bool(hp.get("export_onnx", True))

    def save_final(directory: Path) -> None:
        save_model(model, task.tok, directory, merge_lora=bool(hp.get("merge_lora", False)))
        if not exports:
            return
        if kind == "reward_model":
            export_reward_model(model, task.tok, directory / "onnx")
        else:  # sft, policy_update: the next policy generates from this export (a LoRA adapter merged into it)
            export_causal_lm(model, task.tok, directory / "onnx", marker={
                "jobId": spec["jobId"], "kind": kind, "step": step, "source": str(out / "final"),
                "baseModel": spec["baseModel"], "lora": bool(hp.get("lora")), "attempt": spec.get("attempt"),
            })

    # the final model and its export are written from the CPU: the same graph whichever device trained it
    model.to("cpu")
    final = publish_dir(out, "final", save_final)
    if last:
        emit("metrics", step=step, metrics={k: v for k, v in last.items() if isinstance(v, (int, float))})
    export = {"export": str(final / "onnx")} if exports and kind != "reward_model" else {}
    emit("done", modelPath=str(final), step=step, metrics={"examples": float(len(rows))}, **export)
