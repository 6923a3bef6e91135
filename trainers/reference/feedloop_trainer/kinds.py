"""The three job kinds: what model each trains and its loss on a batch of examples.

  sft            causal LM on (prompt, completion); loss on completion tokens only (ILF's pi_theta, pi_Refine)
  reward_model   scalar-head classifier on (prompt, program, score) by MSE, or (prompt, chosen, rejected)
                 by the Bradley-Terry loss; exported to ONNX for feedloop's onnx backend
  policy_update  one PPO-style iteration over a stored batch of rollouts: clipped ratio to the policy that
                 sampled them, k3 KL penalty to a reference model, advantages by the estimator named in
                 hyperparameter `advantage` (advantages.py: batch-normalised, GRPO, RLOO)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from .advantages import advantages_for
from .protocol import TrainerError

Metrics = dict[str, float]


def pick_device(hp: dict[str, Any]) -> torch.device:
    """hyperparameters.device: "cpu" (default), "cuda" / "cuda:N", or "auto" (CUDA when torch sees a GPU)."""
    want = str(hp.get("device", "cpu"))
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainerError(
                "BadConfig",
                f"hyperparameters.device {want!r}: CUDA is not available to this trainer's torch "
                f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use device cpu or run on a GPU host",
            )
    elif want != "cpu":
        raise TrainerError("BadConfig", f"hyperparameters.device must be cpu, cuda, cuda:N or auto, got {want!r}")
    return torch.device(want)


def load_tokenizer(path: str):
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return tok


def _lora_config(hp: dict[str, Any], task_type: str):
    from peft import LoraConfig

    lora = hp["lora"]
    return LoraConfig(
        r=int(lora.get("r", 8)),
        lora_alpha=int(lora.get("alpha", 16)),
        lora_dropout=float(lora.get("dropout", 0.0)),
        target_modules=lora.get("target_modules"),
        task_type=task_type,
    )


def load_model(cls, base: str, resume: str | None, hp: dict[str, Any], task_type: str, **kwargs: Any):
    """The trainable model: from the resume checkpoint if any (full weights, or a LoRA adapter over the base)."""
    if hp.get("lora"):
        from peft import PeftModel, get_peft_model

        model = cls.from_pretrained(base, local_files_only=True, **kwargs)
        if resume:
            return PeftModel.from_pretrained(model, resume, is_trainable=True)
        return get_peft_model(model, _lora_config(hp, task_type))
    return cls.from_pretrained(resume or base, local_files_only=True, **kwargs)


def save_model(model, tok, directory: Path, merge_lora: bool = False) -> None:
    if merge_lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(directory)
    tok.save_pretrained(directory)


def _pad(seqs: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (width - len(s)) for s in seqs])


class SFT:
    def __init__(self, spec: dict[str, Any], hp: dict[str, Any]):
        self.tok = load_tokenizer(spec["baseModel"])
        self.max_length = int(hp.get("max_length", 512))
        self.device = pick_device(hp)
        self.model = load_model(AutoModelForCausalLM, spec["baseModel"], spec.get("resumeFromCheckpoint"), hp, "CAUSAL_LM").to(self.device)

    def encode(self, rows):
        ids, labels = [], []
        for r in rows:
            p = self.tok(r["prompt"], add_special_tokens=False)["input_ids"]
            c = self.tok(r["completion"], add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
            seq = (p + c)[: self.max_length]
            ids.append(seq)
            labels.append(([-100] * len(p) + c)[: self.max_length])
        input_ids = _pad(ids, self.tok.pad_token_id)
        mask = _pad([[1] * len(s) for s in ids], 0)
        return input_ids, mask, _pad(labels, -100)

    def loss(self, rows) -> tuple[torch.Tensor, Metrics]:
        input_ids, mask, labels = (t.to(self.device) for t in self.encode(rows))
        out = self.model(input_ids=input_ids, attention_mask=mask, labels=labels)
        return out.loss, {}


class RewardModel:
    def __init__(self, spec: dict[str, Any], hp: dict[str, Any]):
        self.tok = load_tokenizer(spec["baseModel"])
        self.max_length = int(hp.get("max_length", 512))
        self.device = pick_device(hp)
        self.model = load_model(
            AutoModelForSequenceClassification, spec["baseModel"], spec.get("resumeFromCheckpoint"), hp, "SEQ_CLS",
            num_labels=1, pad_token_id=self.tok.pad_token_id,
        ).to(self.device)

    def scores(self, prompts: list[str], programs: list[str]) -> torch.Tensor:
        enc = self.tok(prompts, programs, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt")
        return self.model(input_ids=enc["input_ids"].to(self.device), attention_mask=enc["attention_mask"].to(self.device)).logits[:, 0]

    def loss(self, rows) -> tuple[torch.Tensor, Metrics]:
        if "score" in rows[0]:
            pred = self.scores([r["prompt"] for r in rows], [r["program"] for r in rows])
            target = torch.tensor([float(r["score"]) for r in rows], device=self.device)
            return F.mse_loss(pred, target), {}
        chosen = self.scores([r["prompt"] for r in rows], [r["chosen"] for r in rows])
        rejected = self.scores([r["prompt"] for r in rows], [r["rejected"] for r in rows])
        margin = chosen - rejected
        return -F.logsigmoid(margin).mean(), {"pair_accuracy": float((margin > 0).float().mean())}


class PolicyUpdate:
    """PPO-style clipped update with a KL penalty, over one stored batch of rollouts.

    The log-probabilities of the sampling policy (= the base model of this job) and of the
    reference model are computed once per job and cached in the output directory, so a resumed
    run computes its ratios against the same numbers instead of against its own partial update.
    """

    def __init__(self, spec: dict[str, Any], hp: dict[str, Any], rows: list[dict[str, Any]]):
        self.tok = load_tokenizer(spec["baseModel"])
        self.max_length = int(hp.get("max_length", 512))
        self.clip = float(hp.get("clip_range", 0.2))
        self.kl_coef = float(hp.get("kl_coef", 0.05))
        self.device = pick_device(hp)
        self.stats_batch_size = int(hp.get("stats_batch_size", 32))
        self.advantages = advantages_for(rows, hp)
        scored = [float(r["reward"]) for r in rows if r.get("reward") is not None]
        self.mean_reward = sum(scored) / len(scored) if scored else 0.0
        self.index = {id(r): i for i, r in enumerate(rows)}
        cache = Path(spec["outputDir"]) / "rollout-stats.pt"
        if cache.exists():
            stats = torch.load(cache)
        else:
            stats = self._rollout_stats(spec, hp, rows)
            tmp = cache.with_suffix(f".tmp-{os.getpid()}")
            torch.save(stats, tmp)
            os.replace(tmp, cache)
        self.old_lp = [t.to(self.device) for t in stats["old"]]
        self.ref_lp = [t.to(self.device) for t in stats["ref"]]
        self.advantages = self.advantages.to(self.device)
        self.model = load_model(AutoModelForCausalLM, spec["baseModel"], spec.get("resumeFromCheckpoint"), hp, "CAUSAL_LM").to(self.device)

    def _rollout_stats(self, spec, hp, rows):
        with torch.no_grad():
            sampler = AutoModelForCausalLM.from_pretrained(spec["baseModel"], local_files_only=True).eval().to(self.device)
            old = self._batched_logprobs(sampler, rows)
            ref_path = hp.get("reference_model", spec["baseModel"])
            if ref_path != spec["baseModel"]:
                sampler = AutoModelForCausalLM.from_pretrained(ref_path, local_files_only=True).eval().to(self.device)
            ref = old if ref_path == spec["baseModel"] else self._batched_logprobs(sampler, rows)
        return {"old": old, "ref": ref}

    def _batched_logprobs(self, model, rows) -> list[torch.Tensor]:
        """each row's per-token log-probabilities (up to its own length), computed in padded batches;
        kept on the CPU in the cache: a resume on another device reads the same numbers"""
        out: list[torch.Tensor] = []
        for start in range(0, len(rows), self.stats_batch_size):
            chunk = rows[start : start + self.stats_batch_size]
            lp, mask = self._token_logprobs(model, chunk)
            for i in range(len(chunk)):
                length = int(mask[i].nonzero().max()) + 1 if bool(mask[i].any()) else 0
                out.append(lp[i, :length].cpu())
        return out

    def _token_logprobs(self, model, rows):
        """log p(completion token | prefix) for each completion token: [batch, T] with a mask."""
        seqs, starts = [], []
        for r in rows:
            p = self.tok(r["prompt"], add_special_tokens=False)["input_ids"]
            c = self.tok(r["completion"], add_special_tokens=False)["input_ids"]
            seqs.append((p + c)[: self.max_length])
            starts.append(len(p))
        input_ids = _pad(seqs, self.tok.pad_token_id).to(self.device)
        attn = _pad([[1] * len(s) for s in seqs], 0).to(self.device)
        logits = model(input_ids=input_ids, attention_mask=attn).logits[:, :-1].float()
        lp = torch.log_softmax(logits, dim=-1).gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        pos = torch.arange(lp.shape[1], device=self.device).unsqueeze(0)
        mask = (pos >= (torch.tensor(starts, device=self.device).unsqueeze(1) - 1)) & (attn[:, 1:] == 1)
        lp = torch.where(mask, lp, torch.zeros_like(lp))
        return lp, mask

    def loss(self, rows) -> tuple[torch.Tensor, Metrics]:
        lp, mask = self._token_logprobs(self.model, rows)
        idx = [self.index[id(r)] for r in rows]
        width = lp.shape[1]
        old = torch.stack([F.pad(self.old_lp[i], (0, width - len(self.old_lp[i])))[:width] for i in idx])
        ref = torch.stack([F.pad(self.ref_lp[i], (0, width - len(self.ref_lp[i])))[:width] for i in idx])
        adv = self.advantages[idx].unsqueeze(1)
        ratio = torch.exp(lp - old)
        pg = torch.maximum(-adv * ratio, -adv * torch.clamp(ratio, 1 - self.clip, 1 + self.clip))
        log_ratio_ref = ref - lp
        kl = torch.exp(log_ratio_ref) - log_ratio_ref - 1  # k3 estimator of KL(policy || reference)
        m = mask.float()
        loss = ((pg + self.kl_coef * kl) * m).sum() / m.sum().clamp(min=1)
        clipped = ((ratio - 1).abs() > self.clip).float()
        return loss, {
            "kl": float((kl * m).sum() / m.sum().clamp(min=1)),
            "clip_fraction": float((clipped * m).sum() / m.sum().clamp(min=1)),
            "mean_reward": self.mean_reward,
        }


def make_task(kind: str, spec: dict[str, Any], hp: dict[str, Any], rows: list[dict[str, Any]]):
    if kind == "sft":
        return SFT(spec, hp)
    if kind == "reward_model":
        return RewardModel(spec, hp)
    if kind == "policy_update":
        return PolicyUpdate(spec, hp, rows)
    raise TrainerError("BadConfig", f"unknown job kind {kind!r}")
