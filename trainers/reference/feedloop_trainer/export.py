"""Export a trained reward model to ONNX in the layout feedloop's onnx backend loads
(model.onnx, tokenizer.json, tokenizer_config.json, config.json): inputs input_ids and
attention_mask [batch, sequence], output logits [batch, 1]."""
from __future__ import annotations

import sys
from pathlib import Path

import torch


class _Logits(torch.nn.Module):
    # keyword arguments: some classifiers take past_key_values second, positionally
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def export_reward_model(model, tok, out_dir: Path, opset: int = 18) -> Path:
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model = model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    wrapper = _Logits(model).eval()
    example = tok(["a prompt", "another, longer prompt"], ["a program", "def f():\n    return 1"], padding=True, return_tensors="pt")
    args = (example["input_ids"], example["attention_mask"])
    target = out_dir / "model.onnx"
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    try:
        torch.onnx.export(
            wrapper, args, str(target), input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}), opset_version=opset, dynamo=True, external_data=False,
        )
    except Exception as e:  # the torch.export-based exporter cannot trace every architecture: fall back
        print(f"export: torch.export-based ONNX export failed ({type(e).__name__}: {e}); using the TorchScript exporter", file=sys.stderr)
        torch.onnx.export(
            wrapper, args, str(target), input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}},
            opset_version=opset, dynamo=False,
        )
    tok.save_pretrained(out_dir)
    model.config.save_pretrained(out_dir)
    return target
