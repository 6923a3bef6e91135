#!/usr/bin/env python3
"""Makes feedloop's tiny code model offline: a byte-level BPE tokenizer and a small causal LM,
trained from scratch on CPU in minutes, deterministically, then exported for the `onnx` backend.

  python scripts/init-tiny-model.py --out DIR [--steps N] [--arch gpt2|llama] [--seed S]
  (what `npx feedloop model init-tiny` runs, with the reference trainer's venv)
  python scripts/init-tiny-model.py --out DIR --corpus FILE.jsonl --recipe NAME ...
  (another corpus: rows {"prompt", "completion"}; what `npx feedloop model init-synth` runs with
  the synthetic family's pretraining corpus, cli/synth-policy.ts)

Training set: the gold programs of MBPP's Refine and Train splits of the ILF paper (task ids
111-974), each after the prompt feedloop gives a policy (activities/datasets/mbpp.ts
mbppPrompt). Never MBPP_Test (11-110), the few-shot prompt tasks (1-10) or HumanEval: those
are what the model is evaluated on. The tokenizer is trained on the same texts only.

Writes, in DIR:
  config.json, model.safetensors, tokenizer files   the Hugging Face checkpoint (a trainer's baseModel)
  onnx/                                              the export the onnx backend generates from
  feedloop-model.json                                the recipe: task ids, seed, steps, loss curve, hashes

It will not solve MBPP; it is a real model whose weights the loop can change.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# deterministic cuBLAS, should this ever run on a GPU
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainers" / "reference"))

MBPP = ROOT / "data" / "mbpp" / "mbpp.jsonl"
RECIPE = "feedloop-tiny-code-v1"
# the ILF paper's MBPP_Refine (111-310) and MBPP_Train (311-974); see activities/datasets/mbpp.ts
TRAIN_TASK_RANGE = (111, 974)
EOS, PAD = "<|endoftext|>", "<|pad|>"


def mbpp_prompt(row: dict) -> str:
    """The prompt feedloop gives a completion policy (mbppPrompt in activities/datasets/mbpp.ts)."""
    example = row["test_list"][0] if row["test_list"] else ""
    return f'"""\n{row["text"]}\n\n>>> Example: {example}\n"""\n\n'


def training_rows() -> list[dict]:
    lo, hi = TRAIN_TASK_RANGE
    rows = [json.loads(line) for line in MBPP.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if lo <= int(r["task_id"]) <= hi]


def training_texts(rows: list[dict]) -> list[str]:
    return [mbpp_prompt(r) + r["code"].replace("\r\n", "\n") for r in rows]


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, bos_token=EOS, pad_token=PAD, unk_token=EOS)


def build_model(arch: str, tok, layers: int, hidden: int, heads: int, max_positions: int):
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    if arch == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(vocab_size=len(tok), n_positions=max_positions, n_embd=hidden, n_layer=layers, n_head=heads,
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **ids)
        return GPT2LMHeadModel(config)
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=max_positions,
                         tie_word_embeddings=True, **ids)
    return LlamaForCausalLM(config)


def log(msg: str) -> None:
    print(f"init-tiny: {msg}", file=sys.stderr, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to write (replaced if it holds a previous tiny model)")
    ap.add_argument("--arch", choices=["gpt2", "llama"], default="llama", help="llama (default): vLLM serves LoRA adapters for it, not for gpt2")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--max-length", type=int, default=384, help="training sequences are cut to this many tokens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (part of the recipe: float sums depend on it)")
    ap.add_argument("--print-recipe", action="store_true", help="print the training task ids and exit (no torch needed)")
    ap.add_argument("--corpus", help="train on this JSONL of {prompt, completion} rows instead of MBPP's gold programs")
    ap.add_argument("--completion-loss", action="store_true",
                    help="with --corpus: the loss covers each row's completion only (prompt and completion tokenized apart, as a server "
                         "tokenizes the prompt alone); the tokenizer still learns from both")
    ap.add_argument("--prompt-loss-weight", type=float, default=0.0,
                    help="with --completion-loss: each row's loss is the mean over its completion plus this weight times the mean "
                         "over its prompt, and a batch's loss the mean over its rows (a one-token answer weighs as much as a program); "
                         "batches are drawn from rows of like length")
    ap.add_argument("--encode-separately", action="store_true",
                    help="with --corpus: tokenize each row's prompt and completion apart, as a policy meets them (its prompt's "
                         "last token ends where generation starts; a prompt ending in '{\\n' otherwise never does in training)")
    ap.add_argument("--recipe", default=RECIPE, help="the recipe name recorded in feedloop-model.json")
    args = ap.parse_args()

    if args.corpus:
        rows = [json.loads(line) for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        rows = training_rows()
    if args.print_recipe:
        print(json.dumps({"recipe": args.recipe, "trainTaskIds": [r.get("task_id") for r in rows]}))
        return 0

    # torch.onnx and transformers print progress on stdout: keep it for the one result line
    result_out, sys.stdout = sys.stdout, sys.stderr
    import numpy as np
    import torch
    from feedloop_trainer.causal_lm_export import export_causal_lm, sha256_of

    started = time.time()
    out = Path(args.out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / "feedloop-model.json").exists():
        log(f"{out} exists and is not a tiny model directory; choose another --out")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)

    texts = [r["prompt"] + r["completion"] for r in rows] if args.corpus else training_texts(rows)
    # with the loss on completions, they are tokenized apart from their prompts: the tokenizer
    # learns them apart too (a one-word answer, "Yes", is then one token, as a judge's logprobs need)
    tok = train_tokenizer([t for r in rows for t in (r["prompt"], r["completion"])] if args.corpus and args.completion_loss else texts, args.vocab)
    ids = lambda text: tok(text, add_special_tokens=False)["input_ids"]
    if args.corpus and args.completion_loss:
        # (ids, index of the first completion token): the loss is taken from there on
        encoded, starts = [], []
        for r in rows:
            c_ids = ids(r["completion"]) + [tok.eos_token_id]
            full = (ids(r["prompt"]) + c_ids)[-args.max_length:]  # an over-long prompt loses its start, as fitPrompt cuts it
            encoded.append(full)
            starts.append(max(0, len(full) - len(c_ids)))
    elif args.corpus and args.encode_separately:
        encoded = [(ids(r["prompt"]) + ids(r["completion"]))[: args.max_length - 1] + [tok.eos_token_id] for r in rows]
        starts = [0] * len(encoded)
    else:
        encoded = [ids(t)[: args.max_length - 1] + [tok.eos_token_id] for t in texts]
        starts = [0] * len(encoded)
    model = build_model(args.arch, tok, args.layers, args.hidden, args.heads, max_positions=max(512, args.max_length))
    params = sum(p.numel() for p in model.parameters())
    what = f"{len(rows)} programs of {args.corpus}" if args.corpus else f"{len(rows)} MBPP programs (task ids {TRAIN_TASK_RANGE[0]}-{TRAIN_TASK_RANGE[1]})"
    log(f"{what}, {sum(map(len, encoded))} tokens, "
        f"vocab {len(tok)}, {args.arch} {args.layers}x{args.hidden}, {params} parameters")

    opt = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:  # linear warmup, cosine decay to a tenth
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    g = torch.Generator().manual_seed(args.seed)
    order: list = []
    losses: list[float] = []
    model.train()
    per_row = args.corpus and args.completion_loss

    def next_batches() -> list[list[int]]:
        perm = torch.randperm(len(encoded), generator=g).tolist()
        if not per_row:
            return [perm]
        # rows of like length share a batch (little padding): sort windows of 32 batches by length, then shuffle the batches
        window = args.batch_size * 32
        batches = []
        for w in range(0, len(perm), window):
            chunk = sorted(perm[w : w + window], key=lambda i: len(encoded[i]))
            batches += [chunk[b : b + args.batch_size] for b in range(0, len(chunk), args.batch_size)]
        return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]

    for step in range(args.steps):
        if per_row:
            if not order:
                order = next_batches()
            picked, order = order[0], order[1:]
        else:
            if len(order) < args.batch_size:
                order += next_batches()[0]
            picked, order = order[: args.batch_size], order[args.batch_size :]
        batch = [encoded[i] for i in picked]
        width = max(map(len, batch))
        input_ids = torch.tensor([s + [tok.pad_token_id] * (width - len(s)) for s in batch])
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
        scored = torch.tensor([[0] * starts[i] + [1] * (len(encoded[i]) - starts[i]) + [0] * (width - len(encoded[i])) for i in picked])
        if per_row:
            # token j is predicted at position j - 1; weights: 1/n over the completion, w/n over the prompt (its first token is never predicted)
            logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1]
            ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), input_ids[:, 1:].reshape(-1), reduction="none").view(len(picked), -1)
            comp = scored[:, 1:].float()
            prompt = mask[:, 1:].float() - comp
            loss = ((ce * comp).sum(1) / comp.sum(1).clamp(min=1)
                    + args.prompt_loss_weight * (ce * prompt).sum(1) / prompt.sum(1).clamp(min=1)).mean()
        else:
            labels = torch.where(scored == 1, input_ids, torch.full_like(input_ids, -100))
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step % 50 == 0 or step == args.steps - 1:
            log(f"step {step + 1}/{args.steps} loss {losses[-1]:.4f} ({time.time() - started:.0f}s)")
    train_seconds = time.time() - started

    model.eval()
    for stale in out.glob("*.safetensors"):
        stale.unlink()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    source = {"recipe": args.recipe, "source": str(out), "jobId": None, "kind": "init-tiny", "step": args.steps}
    export_causal_lm(model, tok, out / "onnx", marker=source)
    recipe = {
        "recipe": args.recipe,
        "arch": args.arch,
        "layers": args.layers, "hidden": args.hidden, "heads": args.heads, "vocab": len(tok), "parameters": params,
        "seed": args.seed, "threads": args.threads, "steps": args.steps, "batchSize": args.batch_size,
        "learningRate": args.learning_rate, "maxLength": args.max_length, "completionLoss": bool(args.completion_loss), "promptLossWeight": args.prompt_loss_weight,
        **({"corpus": args.corpus, "corpusRows": len(rows), "encodeSeparately": args.encode_separately} if args.corpus else {
            "trainTaskRange": list(TRAIN_TASK_RANGE), "trainTaskIds": [int(r["task_id"]) for r in rows]}),
        "trainTokens": sum(map(len, encoded)),
        "loss": {"first": losses[0], "last": losses[-1], "meanLast50": sum(losses[-50:]) / len(losses[-50:]),
                 "every10": [round(v, 5) for v in losses[::10]]},
        "trainSeconds": round(train_seconds, 1),
        "totalSeconds": round(time.time() - started, 1),
        "sha256": {"model.safetensors": sha256_of(out / "model.safetensors"), "onnx/model.onnx": sha256_of(out / "onnx" / "model.onnx")},
        "versions": {"torch": torch.__version__},
    }
    (out / "feedloop-model.json").write_text(json.dumps(recipe, indent=2) + "\n")
    log(f"wrote {out} in {recipe['totalSeconds']}s: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    print(json.dumps({"modelDir": str(out), "onnxDir": str(out / "onnx"), "loss": recipe["loss"]["last"], "seconds": recipe["totalSeconds"]}), file=result_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
