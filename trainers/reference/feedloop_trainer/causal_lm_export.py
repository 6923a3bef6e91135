"""Export a causal LM to ONNX in the layout feedloop's `onnx` backend generates from
(activities/models/onnx/causal-lm.ts): the Optimum "text-generation-with-past" graph.

  inputs   input_ids [batch, sequence], attention_mask [batch, past + sequence],
           position_ids [batch, sequence], past_key_values.N.key / .value [batch, heads, past, head_dim]
  outputs  logits [batch, sequence, vocab], present.N.key / .value [batch, heads, past + sequence, head_dim]

plus tokenizer.json, tokenizer_config.json, config.json and generation_config.json beside
model.onnx, and `feedloop-export.json`, the marker saying which model (and job and step) the
export came from. The first generation step feeds past tensors of length 0.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

EXPORT_MARKER = "feedloop-export.json"


def _kv_shape(config) -> tuple[int, int, int]:
    layers = getattr(config, "num_hidden_layers", None) or config.n_layer
    heads = getattr(config, "num_attention_heads", None) or config.n_head
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    hidden = getattr(config, "hidden_size", None) or config.n_embd
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return layers, kv_heads, head_dim


class _WithPast(torch.nn.Module):
    """Flat tensors in and out, so the graph's inputs and outputs have the Optimum names."""

    def __init__(self, model, layers: int):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, input_ids, attention_mask, position_ids, *past):
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        for i in range(self.layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, past_key_values=cache, use_cache=True)
        present = []
        for layer in out.past_key_values.layers:
            present += [layer.keys, layer.values]
        return (out.logits, *present)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_causal_lm(model, tok, out_dir: Path, marker: dict[str, Any], opset: int = 18) -> Path:
    """Writes the ONNX export of `model` (a LoRA adapter is merged first) into out_dir."""
    if hasattr(model, "merge_and_unload"):
        import copy

        model = copy.deepcopy(model).merge_and_unload()  # the trainer's own copy keeps its adapter
    model = model.eval()
    config = model.config
    layers, kv_heads, head_dim = _kv_shape(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch, seq, past_len = 2, 3, 4
    example = (
        torch.randint(0, config.vocab_size, (batch, seq)),
        torch.ones(batch, past_len + seq, dtype=torch.int64),
        torch.arange(past_len, past_len + seq).repeat(batch, 1),
        *[torch.randn(batch, kv_heads, past_len, head_dim) for _ in range(2 * layers)],
    )
    past_names = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    auto = torch.export.Dim.AUTO
    # forward(*past) takes the past tensors as one (flattened) argument
    dynamic = ({0: auto, 1: auto}, {0: auto, 1: auto}, {0: auto, 1: auto}, tuple({0: auto, 2: auto} for _ in past_names))
    target = out_dir / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            _WithPast(model, layers).eval(), example, str(target),
            input_names=["input_ids", "attention_mask", "position_ids", *past_names], output_names=["logits", *present_names],
            dynamic_shapes=dynamic, opset_version=opset, dynamo=True, external_data=False,
        )
    for stale in out_dir.glob("model.onnx.data"):
        stale.unlink()
    tok.save_pretrained(out_dir)
    config.save_pretrained(out_dir)
    gen = {"bos_token_id": config.bos_token_id, "eos_token_id": config.eos_token_id, "pad_token_id": config.pad_token_id}
    (out_dir / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    (out_dir / EXPORT_MARKER).write_text(json.dumps({
        "format": "onnx-causal-lm-with-past", "opset": opset, "modelSha256": sha256_of(target), **marker,
    }, indent=2) + "\n")
    return target
