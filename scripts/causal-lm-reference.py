#!/usr/bin/env python3
"""PyTorch's numbers for a Hugging Face causal LM checkpoint, to check feedloop's `onnx` backend
on its ONNX export against (test/models/tiny-model.test.ts):

  python scripts/causal-lm-reference.py MODEL_DIR greedy PROMPTS.json MAX_NEW_TOKENS
      greedy generations: a full forward pass per step (no KV cache), argmax, stop at EOS
  python scripts/causal-lm-reference.py MODEL_DIR loglik PAIRS.json
      teacher-forced log p(program tokens + EOS | prompt) per pair, as activities/models/onnx/log-likelihood.ts

Prints JSON on stdout. Runs with the reference trainer's venv (scripts/install-trainer-env.sh).
"""
from __future__ import annotations

import json
import math
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str]) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir, mode, data_file = argv[1], argv[2], argv[3]
    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True, torch_dtype=torch.float32).eval()
    eos = model.config.eos_token_id
    data = json.load(open(data_file, encoding="utf-8"))

    def logprobs_of(ids: list[int]) -> torch.Tensor:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0].double()
        return torch.log_softmax(logits, dim=-1)

    if mode == "greedy":
        max_new = int(argv[4])
        out = []
        for prompt in data:
            ids = tok(prompt, add_special_tokens=False)["input_ids"]
            new, lps, finish = [], [], "length"
            for _ in range(max_new):
                lp = logprobs_of(ids + new)[-1]
                nxt = int(torch.argmax(lp))
                if nxt == eos:
                    finish = "stop"
                    break
                new.append(nxt)
                lps.append(float(lp[nxt]))
            out.append({"prompt": prompt, "tokenIds": new, "text": tok.decode(new, skip_special_tokens=True), "logprobs": lps, "finishReason": finish})
        print(json.dumps(out))
        return 0
    if mode == "loglik":
        limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
        pairs, total, tokens = [], 0.0, 0
        for pair in data:
            prompt = tok(pair["prompt"], add_special_tokens=False)["input_ids"] if pair["prompt"] else [eos]
            program = tok(pair["program"], add_special_tokens=False)["input_ids"] + [eos]
            ids = (prompt + program)[:limit]
            lp = logprobs_of(ids)
            picked = [float(lp[t - 1, ids[t]]) for t in range(len(prompt), len(ids))]
            pairs.append({"tokens": len(picked), "sumLogprob": sum(picked), "meanLogprob": sum(picked) / len(picked)})
            total += sum(picked)
            tokens += len(picked)
        print(json.dumps({"pairs": pairs, "tokens": tokens, "meanLogprob": total / tokens, "perplexity": math.exp(-total / tokens)}))
        return 0
    print(f"unknown mode {mode!r} (greedy | loglik)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
