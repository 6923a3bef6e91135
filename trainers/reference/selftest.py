#!/usr/bin/env python3
"""Self-test of the reference trainer, on CPU, with no download.

Builds a tiny randomly initialised GPT-2 (2 layers, width 64) and a byte-level BPE tokenizer
trained on MBPP text, then drives train.py through the trainer protocol as feedloop does:

  1. sft: an uninterrupted run, and a run SIGKILLed after a checkpoint then resumed from it;
     the resumed run must continue at the next step and end with the same weights
  2. sft with LoRA: resume from a checkpoint, same adapter weights as an uninterrupted run
  3. reward_model on MBPP gold vs CodeGen's failing programs (ILF data), exported to ONNX and
     scored by feedloop's onnx backend (Node); scores must match PyTorch's
  4. policy_update (PPO-style, KL to the reference) over a batch of rollouts with rewards

  python3 trainers/reference/selftest.py [--keep DIR]     (run from the repository root)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TRAIN = HERE / "train.py"


def log(msg: str) -> None:
    print(f"[selftest] {msg}", flush=True)


def build_base(base: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    texts = []
    for line in (ROOT / "data" / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts += [row["text"], row["code"].replace("\r\n", "\n")]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>", "<|pad|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>", pad_token="<|pad|>", unk_token="<|endoftext|>")
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok), n_positions=512, n_embd=64, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout: resumed runs must be exact
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(base)
    tok.save_pretrained(base)


def write_datasets(d: Path) -> dict[str, Path]:
    mbpp = [json.loads(l) for l in (ROOT / "data" / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines()]
    gold = {r["task_id"]: r["code"].replace("\r\n", "\n") for r in mbpp}
    text = {r["task_id"]: r["text"] for r in mbpp}
    ilf = [json.loads(l) for l in (ROOT / "data" / "ilf" / "surge_annotations.jsonl").read_text(encoding="utf-8").splitlines()]
    paths = {k: d / f"{k}.jsonl" for k in ("sft", "rm", "rollouts")}
    with paths["sft"].open("w") as f:
        for r in mbpp[:64]:
            f.write(json.dumps({"prompt": f'"""{r["text"]}"""\n', "completion": gold[r["task_id"]]}) + "\n")
    with paths["rm"].open("w") as f:
        for a in ilf[:64]:
            t = int(a["task_id"])
            f.write(json.dumps({"prompt": text[t], "chosen": gold[t], "rejected": a["original_model_completion"]}) + "\n")
    with paths["rollouts"].open("w") as f:
        for i, a in enumerate(ilf[:32]):
            t = int(a["task_id"])
            good = i % 2 == 0
            f.write(json.dumps({"prompt": f'"""{text[t]}"""\n', "completion": gold[t] if good else a["original_model_completion"], "reward": 1.0 if good else 0.0}) + "\n")
    return paths


def spec_for(work: Path, name: str, kind: str, base: Path, dataset: Path, hp: dict, resume: Path | None = None) -> Path:
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    spec = {
        "protocol": 1, "jobId": name, "kind": kind, "baseModel": str(base), "datasetPath": str(dataset), "evalDatasetPath": None,
        "outputDir": str(out), "resumeFromCheckpoint": str(resume) if resume else None,
        "resumeFromStep": int(resume.name.split("-")[1]) if resume else 0, "hyperparameters": hp, "attempt": 2 if resume else 1,
    }
    path = out / f"spec-{'resume' if resume else 'fresh'}.json"
    path.write_text(json.dumps(spec))
    return path


def run_trainer(spec: Path, kill_after_checkpoint: int | None = None, expect_failure: bool = False) -> list[dict]:
    """Runs train.py as the activity does (own process group, stdin open); optionally SIGKILLs it
    as soon as it reports a checkpoint at or after the given step."""
    proc = subprocess.Popen([sys.executable, str(TRAIN), str(spec)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    events = []
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        events.append(ev)
        if kill_after_checkpoint is not None and ev["event"] == "checkpoint" and ev["step"] >= kill_after_checkpoint:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    if kill_after_checkpoint is None and not expect_failure and proc.returncode != 0:
        raise SystemExit(f"trainer failed ({proc.returncode}):\n{stderr[-3000:]}")
    return events


def weights_diff(a: Path, b: Path) -> float:
    from safetensors.torch import load_file

    fa = next(a.glob("*.safetensors"))
    ta, tb = load_file(str(fa)), load_file(str(b / fa.name))
    return max(float((ta[k] - tb[k]).abs().max()) for k in ta)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise SystemExit(f"[selftest] FAILED: {msg}")
    log(f"ok: {msg}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", help="work in this directory and keep it")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="feedloop-selftest-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    base = work / "base"
    build_base(base)
    data = write_datasets(work)
    log(f"built tiny GPT-2 + BPE tokenizer and datasets in {time.time() - t0:.1f}s")

    # 1. sft: uninterrupted vs killed + resumed
    hp = {"max_steps": 30, "checkpoint_every": 5, "batch_size": 4, "learning_rate": 1e-3, "seed": 1}
    t = time.time()
    ref = run_trainer(spec_for(work, "sft-ref", "sft", base, data["sft"], hp))
    ref_losses = [e["loss"] for e in ref if e["event"] == "progress"]
    log(f"sft uninterrupted: 30 steps in {time.time() - t:.1f}s, loss {ref_losses[0]:.3f} -> {ref_losses[-1]:.3f}")
    check(ref_losses[-1] < ref_losses[0], "sft loss decreases")
    killed = run_trainer(spec_for(work, "sft-kill", "sft", base, data["sft"], hp), kill_after_checkpoint=10)
    last_ckpt = max(e["step"] for e in killed if e["event"] == "checkpoint")
    ckpt = work / "sft-kill" / f"checkpoint-{last_ckpt}"
    check((ckpt / "feedloop-checkpoint.json").exists(), f"killed run left a complete checkpoint-{last_ckpt}")
    resumed = run_trainer(spec_for(work, "sft-kill", "sft", base, data["sft"], hp, resume=ckpt))
    steps = [e["step"] for e in resumed if e["event"] == "progress"]
    check(steps == list(range(last_ckpt + 1, 31)), f"resumed run trained steps {last_ckpt + 1}..30 exactly")
    res_losses = [e["loss"] for e in resumed if e["event"] == "progress"]
    check(abs(res_losses[-1] - ref_losses[-1]) < 1e-4, f"resumed final loss {res_losses[-1]:.6f} == uninterrupted {ref_losses[-1]:.6f}")
    diff = weights_diff(work / "sft-ref" / "final", work / "sft-kill" / "final")
    check(diff < 1e-5, f"resumed final weights equal uninterrupted (max |diff| {diff:.2e})")

    # 2. LoRA resume
    lora_hp = {**hp, "max_steps": 6, "checkpoint_every": 3, "lora": {"r": 4, "alpha": 8, "target_modules": ["c_attn"]}}
    run_trainer(spec_for(work, "lora-ref", "sft", base, data["sft"], lora_hp))
    run_trainer(spec_for(work, "lora-resume", "sft", base, data["sft"], lora_hp, resume=work / "lora-ref" / "checkpoint-3"))
    diff = weights_diff(work / "lora-ref" / "final", work / "lora-resume" / "final")
    check(diff < 1e-5, f"LoRA adapter resumed from checkpoint-3 equals uninterrupted (max |diff| {diff:.2e})")

    # 3. reward model -> ONNX -> feedloop onnx backend
    t = time.time()
    rm_events = run_trainer(spec_for(work, "rm", "reward_model", base, data["rm"], {"max_steps": 20, "batch_size": 8, "learning_rate": 1e-3, "checkpoint_every": 10}))
    done = next(e for e in rm_events if e["event"] == "done")
    onnx_dir = Path(done["modelPath"]) / "onnx"
    check((onnx_dir / "model.onnx").exists(), f"reward model trained (20 steps, {time.time() - t:.1f}s) and exported to {onnx_dir}")
    rows = [json.loads(l) for l in data["rm"].read_text().splitlines()][:6]
    pairs = [{"prompt": r["prompt"], "program": r[k]} for r in rows for k in ("chosen", "rejected")]
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(onnx_dir)
    model = AutoModelForSequenceClassification.from_pretrained(Path(done["modelPath"])).eval()
    with torch.no_grad():
        torch_scores = [float(model(**tok(p["prompt"], p["program"], return_tensors="pt")).logits[0, 0]) for p in pairs]
    pairs_file = work / "pairs.json"
    pairs_file.write_text(json.dumps(pairs))
    node = subprocess.run(["node", "--import", "tsx", str(ROOT / "scripts" / "onnx-score.ts"), str(onnx_dir), str(pairs_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    if node.returncode != 0:
        raise SystemExit(f"onnx backend failed: {node.stderr}")
    onnx_scores = json.loads(node.stdout)
    worst = max(abs(a - b) for a, b in zip(torch_scores, onnx_scores))
    check(worst < 1e-4, f"feedloop onnx backend scores match PyTorch on {len(pairs)} pairs (max |diff| {worst:.2e}, batched with padding)")

    # 4. policy update from the SFT model
    t = time.time()
    pu = run_trainer(spec_for(work, "ppo", "policy_update", work / "sft-ref" / "final", data["rollouts"],
                              {"batch_size": 8, "ppo_epochs": 2, "learning_rate": 1e-4, "kl_coef": 0.1, "checkpoint_every": 4}))
    metrics = next(e for e in pu if e["event"] == "metrics")["metrics"]
    steps = [e["step"] for e in pu if e["event"] == "progress"]
    check(steps == list(range(1, 9)) and metrics["kl"] >= 0, f"policy_update ran 8 steps in {time.time() - t:.1f}s, kl {metrics['kl']:.2e}, clip fraction {metrics['clip_fraction']:.3f}")
    # a resumed policy update continues at the next step against the same sampling-policy statistics
    pu2 = run_trainer(spec_for(work, "ppo-resume", "policy_update", work / "sft-ref" / "final", data["rollouts"],
                               {"batch_size": 8, "ppo_epochs": 2, "learning_rate": 1e-4, "kl_coef": 0.1, "checkpoint_every": 4}, resume=work / "ppo" / "checkpoint-4"))
    diff = weights_diff(work / "ppo" / "final", work / "ppo-resume" / "final")
    check([e["step"] for e in pu2 if e["event"] == "progress"] == [5, 6, 7, 8] and diff < 1e-5,
          f"policy_update resumed at step 5 ends with the uninterrupted weights (max |diff| {diff:.2e})")

    # bad config: a non-retryable error event
    bad = run_trainer(spec_for(work, "bad", "sft", work / "no-such-model", data["sft"], hp), expect_failure=True)
    err = next((e for e in bad if e["event"] == "error"), None)
    check(err is not None and err["errorClass"] == "BadConfig" and err["retryable"] is False, "a missing base model is a non-retryable BadConfig error")

    log(f"all checks passed in {time.time() - t0:.1f}s (work dir {work})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
