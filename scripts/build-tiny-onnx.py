#!/usr/bin/env python3
"""Builds the tiny ONNX models that test the `onnx` model backend (test/fixtures/onnx/).

  python3 scripts/build-tiny-onnx.py            # (re)write test/fixtures/onnx/
  python3 scripts/build-tiny-onnx.py --check    # rebuild into a temp dir, fail if the committed files differ (numbers: beyond 1e-6)

Needs the pinned packages in scripts/requirements-fixtures.txt (onnx, tokenizers, numpy).

What it builds, in the Hugging Face Optimum layout the backend loads (model.onnx, tokenizer.json,
tokenizer_config.json, config.json, generation_config.json):

  causal-lm/            a causal LM without KV cache: inputs input_ids, attention_mask -> logits
  causal-lm-with-past/  the same weights exported "with past": position_ids and
                        past_key_values.0.{key,value} in, present.0.{key,value} out
  reward-model/         a sequence classifier: (prompt, program) pair -> logits [batch, 1]
  expected.json         what the backend must produce, computed here with numpy (an independent
                        reference implementation), plus the Python `tokenizers` encodings so the
                        test can check that the JS tokenizer agrees id for id

The LM is small but not trivial: logits[t] = (E[id_t] + P[pos_t]) @ U + (sum_{s<=t} mask_s V[id_s]) @ W + c,
so the output depends on the whole prefix, on positions and on the attention mask, and a wrong
KV-cache, position or mask handling changes the greedy text. One token is wired to EOS so that
greedy generation from the first prompt stops on its own.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "test" / "fixtures" / "onnx"
MBPP = ROOT / "data" / "mbpp" / "mbpp.jsonl"

VOCAB_SIZE = 320
EOS = "<|endoftext|>"
SEP = "<|sep|>"
HIDDEN = 16  # embedding width; the last dimension is reserved for the EOS route
HEAD_DIM = 4  # KV "head": one head of width 4
MAX_POSITIONS = 256
OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime from 1.10 on

LM_PROMPTS = ["def add(a, b):\n", "Write a function to", "import math\n"]
LM_MAX_NEW_TOKENS = 12
RM_PAIRS = [
    ("Write a function to add two numbers.", "def add(a, b):\n    return a + b"),
    ("Write a function to add two numbers.", "def add(a, b):\n    return a - b"),
    ("def add(a, b):\n    return a + b", "Write a function to add two numbers."),
    ("Sort a list.", "def sort_list(xs):\n    return sorted(xs)\n"),
]


def train_tokenizer() -> Tokenizer:
    texts = []
    with MBPP.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            texts.append(row["code"].replace("\r\n", "\n"))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[EOS, SEP],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def lm_weights(vocab: int, eos_id: int, unprintable: list[int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    w = {
        "E": rng.normal(0, 1, (vocab, HIDDEN)).astype(np.float32),
        "P": rng.normal(0, 0.3, (MAX_POSITIONS, HIDDEN)).astype(np.float32),
        "U": rng.normal(0, 1, (HIDDEN, vocab)).astype(np.float32),
        "V": rng.normal(0, 0.5, (vocab, HEAD_DIM)).astype(np.float32),
        "K": rng.normal(0, 0.5, (vocab, HEAD_DIM)).astype(np.float32),
        "W": rng.normal(0, 0.5, (HEAD_DIM, vocab)).astype(np.float32),
        "c": np.zeros((vocab,), dtype=np.float32),
    }
    # The last hidden dimension only carries the EOS route (set up in wire_eos).
    w["E"][:, HIDDEN - 1] = 0
    w["P"][:, HIDDEN - 1] = 0
    w["U"][HIDDEN - 1, :] = 0
    w["c"][eos_id] = -20.0  # EOS never wins by accident
    # Tokens that decode to control characters or partial UTF-8 never win either, so expected
    # texts are readable and decode the same in every tokenizer implementation.
    w["c"][unprintable] = -30.0
    return w


def lm_logits(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Reference forward pass over the whole sequence (no cache, no padding): [seq, vocab]."""
    ids_a = np.array(ids)
    pos = np.arange(len(ids))
    h = w["E"][ids_a] + w["P"][pos]
    ctx = np.cumsum(w["V"][ids_a], axis=0)
    return (h @ w["U"] + ctx @ w["W"] + w["c"]).astype(np.float32)


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def greedy(w, prompt_ids: list[int], eos_id: int, max_new: int):
    ids = list(prompt_ids)
    out, logprobs = [], []
    finish = "length"
    for _ in range(max_new):
        logits = lm_logits(w, ids)[-1]
        nxt = int(np.argmax(logits))
        if nxt == eos_id:
            finish = "stop"
            break
        logprobs.append(float(log_softmax(logits.astype(np.float64))[nxt]))
        out.append(nxt)
        ids.append(nxt)
    return out, logprobs, finish


def wire_eos(w, tok: Tokenizer, eos_id: int) -> int:
    """Makes the 4th greedy token of the first prompt lead to EOS; returns that token's id."""
    chain, _, _ = greedy(w, tok.encode(LM_PROMPTS[0]).ids, eos_id, 4)
    trigger = chain[3]
    w["E"][trigger, HIDDEN - 1] = 1.0
    w["U"][HIDDEN - 1, eos_id] = 200.0
    return trigger


def init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(arr, name=name)


def const_i64(name: str, values: list[int]) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=init(name + "_value", np.array(values, dtype=np.int64)))


def build_lm(w, with_past: bool) -> onnx.ModelProto:
    vocab = w["E"].shape[0]
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    inputs = [
        helper.make_tensor_value_info("input_ids", i64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info("attention_mask", i64, ["batch_size", "total_sequence_length"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", f32, ["batch_size", "sequence_length", vocab])]
    nodes = [
        const_i64("axis1", [1]),
        const_i64("axis2", [2]),
        const_i64("big", [2**62]),
        const_i64("one", [1]),
        # the mask of the current tokens is the last `sequence_length` columns of attention_mask
        helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
        helper.make_node("Gather", ["ids_shape", "one"], ["seq_len"], axis=0),
        helper.make_node("Neg", ["seq_len"], ["neg_seq_len"]),
        helper.make_node("Slice", ["attention_mask", "neg_seq_len", "big", "axis1"], ["mask_cur"]),
        helper.make_node("Cast", ["mask_cur"], ["mask_f"], to=f32),
        helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask_3d"]),
        helper.make_node("Gather", ["E", "input_ids"], ["tok_emb"]),
        helper.make_node("Gather", ["V", "input_ids"], ["v_raw"]),
        helper.make_node("Mul", ["v_raw", "mask_3d"], ["v_new"]),
        helper.make_node("CumSum", ["v_new", "axis1"], ["v_cum"]),
    ]
    if with_past:
        inputs += [
            helper.make_tensor_value_info("position_ids", i64, ["batch_size", "sequence_length"]),
            helper.make_tensor_value_info("past_key_values.0.key", f32, ["batch_size", 1, "past_sequence_length", HEAD_DIM]),
            helper.make_tensor_value_info("past_key_values.0.value", f32, ["batch_size", 1, "past_sequence_length", HEAD_DIM]),
        ]
        outputs += [
            helper.make_tensor_value_info("present.0.key", f32, ["batch_size", 1, "total_sequence_length", HEAD_DIM]),
            helper.make_tensor_value_info("present.0.value", f32, ["batch_size", 1, "total_sequence_length", HEAD_DIM]),
        ]
        nodes += [
            const_i64("axes12", [1, 2]),
            helper.make_node("ReduceSum", ["past_key_values.0.value", "axes12"], ["past_sum"], keepdims=0),
            helper.make_node("Unsqueeze", ["past_sum", "axis1"], ["past_sum_3d"]),
            helper.make_node("Add", ["v_cum", "past_sum_3d"], ["ctx"]),
            helper.make_node("Unsqueeze", ["v_new", "axis1"], ["v_new_4d"]),
            helper.make_node("Concat", ["past_key_values.0.value", "v_new_4d"], ["present.0.value"], axis=2),
            helper.make_node("Gather", ["K", "input_ids"], ["k_new"]),
            helper.make_node("Unsqueeze", ["k_new", "axis1"], ["k_new_4d"]),
            helper.make_node("Concat", ["past_key_values.0.key", "k_new_4d"], ["present.0.key"], axis=2),
            helper.make_node("Gather", ["P", "position_ids"], ["pos_emb"]),
        ]
    else:
        # positions as Hugging Face derives them from the mask: cumsum(mask) - 1, clipped at 0
        nodes += [
            helper.make_node("Identity", ["v_cum"], ["ctx"]),
            helper.make_node("CumSum", ["mask_cur", "axis1"], ["mask_cum"]),
            helper.make_node("Sub", ["mask_cum", "one"], ["pos_raw"]),
            const_i64("zero", [0]),
            helper.make_node("Max", ["pos_raw", "zero"], ["pos_ids"]),
            helper.make_node("Gather", ["P", "pos_ids"], ["pos_emb"]),
        ]
    nodes += [
        helper.make_node("Add", ["tok_emb", "pos_emb"], ["h"]),
        helper.make_node("MatMul", ["h", "U"], ["h_logits"]),
        helper.make_node("MatMul", ["ctx", "W"], ["ctx_logits"]),
        helper.make_node("Add", ["h_logits", "ctx_logits"], ["sum_logits"]),
        helper.make_node("Add", ["sum_logits", "c"], ["logits"]),
    ]
    names = ["E", "P", "U", "V", "W", "c"] + (["K"] if with_past else [])
    graph = helper.make_graph(nodes, "tiny_causal_lm", inputs, outputs, [init(n, w[n]) for n in names])
    return finish_model(graph)


def rm_weights(vocab: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240602)
    return {"R": rng.normal(0, 1, (vocab,)).astype(np.float32), "b": np.array([0.25], dtype=np.float32)}


def rm_score(w, ids: list[int]) -> float:
    """Position-weighted mean of per-token values: order-sensitive, padding-insensitive."""
    ids_a = np.array(ids)
    weights = 1.0 + 0.01 * np.arange(len(ids), dtype=np.float32)
    return float((w["R"][ids_a] * weights).sum() / len(ids) + w["b"][0])


def build_rm(w) -> onnx.ModelProto:
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    inputs = [
        helper.make_tensor_value_info("input_ids", i64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info("attention_mask", i64, ["batch_size", "sequence_length"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", f32, ["batch_size", 1])]
    nodes = [
        const_i64("axis1", [1]),
        helper.make_node("Constant", [], ["one_f"], value=init("one_f_value", np.array([1.0], dtype=np.float32))),
        helper.make_node("Constant", [], ["step_f"], value=init("step_f_value", np.array([0.01], dtype=np.float32))),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=f32),
        helper.make_node("Gather", ["R", "input_ids"], ["r"]),
        helper.make_node("CumSum", ["mask_f", "axis1"], ["mask_cum"]),
        helper.make_node("Sub", ["mask_cum", "one_f"], ["pos_f"]),
        helper.make_node("Mul", ["pos_f", "step_f"], ["pos_scaled"]),
        helper.make_node("Add", ["pos_scaled", "one_f"], ["pos_w"]),
        helper.make_node("Mul", ["r", "pos_w"], ["rw"]),
        helper.make_node("Mul", ["rw", "mask_f"], ["rw_masked"]),
        helper.make_node("ReduceSum", ["rw_masked", "axis1"], ["total"], keepdims=1),
        helper.make_node("ReduceSum", ["mask_f", "axis1"], ["count"], keepdims=1),
        helper.make_node("Div", ["total", "count"], ["mean"]),
        helper.make_node("Add", ["mean", "b"], ["logits"]),
    ]
    graph = helper.make_graph(nodes, "tiny_reward_model", inputs, outputs, [init("R", w["R"]), init("b", w["b"])])
    return finish_model(graph)


def finish_model(graph) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="feedloop-build-tiny-onnx")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def build(out: Path) -> None:
    tok = train_tokenizer()
    eos_id, sep_id = tok.token_to_id(EOS), tok.token_to_id(SEP)
    vocab = tok.get_vocab_size()
    tok_config = {"bos_token": EOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS, "model_max_length": MAX_POSITIONS, "tokenizer_class": "GPT2Tokenizer"}

    unprintable = [i for i in range(vocab) if not all(ch == "\n" or " " <= ch <= "~" for ch in tok.decode([i]))]
    w = lm_weights(vocab, eos_id, unprintable)
    trigger = wire_eos(w, tok, eos_id)
    lm_config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab, "n_embd": HEAD_DIM, "n_head": 1,
        "n_layer": 1, "n_positions": MAX_POSITIONS, "bos_token_id": eos_id, "eos_token_id": eos_id, "pad_token_id": eos_id,
    }
    for name, with_past in (("causal-lm", False), ("causal-lm-with-past", True)):
        d = out / name
        d.mkdir(parents=True)
        onnx.save(build_lm(w, with_past), str(d / "model.onnx"))
        tok.save(str(d / "tokenizer.json"))
        write_json(d / "tokenizer_config.json", tok_config)
        write_json(d / "config.json", {**lm_config, "use_cache": with_past})
        write_json(d / "generation_config.json", {"bos_token_id": eos_id, "eos_token_id": eos_id, "pad_token_id": eos_id})

    rm_tok = Tokenizer.from_str(tok.to_str())
    rm_tok.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {SEP} $B {EOS}", special_tokens=[(EOS, eos_id), (SEP, sep_id)]
    )
    rw = rm_weights(vocab)
    d = out / "reward-model"
    d.mkdir(parents=True)
    onnx.save(build_rm(rw), str(d / "model.onnx"))
    rm_tok.save(str(d / "tokenizer.json"))
    write_json(d / "tokenizer_config.json", tok_config)
    write_json(d / "config.json", {
        "architectures": ["GPT2ForSequenceClassification"], "model_type": "gpt2", "vocab_size": vocab, "num_labels": 1,
        "id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}, "pad_token_id": eos_id,
    })

    generations = []
    for prompt in LM_PROMPTS:
        prompt_ids = tok.encode(prompt).ids
        ids, logprobs, finish = greedy(w, prompt_ids, eos_id, LM_MAX_NEW_TOKENS)
        generations.append({
            "prompt": prompt, "promptIds": prompt_ids, "maxTokens": LM_MAX_NEW_TOKENS, "tokenIds": ids,
            "text": tok.decode(ids), "logprobs": logprobs, "finishReason": finish,
        })
    scores = []
    for prompt, program in RM_PAIRS:
        ids = rm_tok.encode(prompt, program).ids
        scores.append({"prompt": prompt, "program": program, "ids": ids, "score": rm_score(rw, ids)})
    write_json(out / "expected.json", {
        "eosTokenId": eos_id, "eosTriggerTokenId": trigger, "vocabSize": vocab,
        "greedy": generations, "rewardScores": scores,
    })


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare with the committed fixtures")
    args = ap.parse_args()
    if not args.check:
        shutil.rmtree(FIXTURES, ignore_errors=True)
        build(FIXTURES)
        print(f"wrote {FIXTURES}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "onnx"
        build(fresh)
        diffs = compare(fresh, FIXTURES)
    if diffs:
        print("committed ONNX fixtures differ from what scripts/build-tiny-onnx.py builds:\n  " + "\n  ".join(diffs), file=sys.stderr)
        print("rebuild them with: python3 scripts/build-tiny-onnx.py", file=sys.stderr)
        return 1
    print("ONNX fixtures match the build script")
    return 0


def compare(fresh: Path, committed: Path) -> list[str]:
    diffs = []
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) if committed.exists() else []
    for rel in sorted(set(fresh_files) | set(committed_files)):
        a, b = fresh / rel, committed / rel
        if not b.exists():
            diffs.append(f"{rel}: missing from the committed fixtures")
        elif not a.exists():
            diffs.append(f"{rel}: committed but no longer built")
        elif not filecmp.cmp(a, b, shallow=False):
            if rel.suffix == ".json":
                diffs += [f"{rel}: {d}" for d in json_differences(json.loads(a.read_text("utf-8")), json.loads(b.read_text("utf-8")))]
            else:
                diffs.append(f"{rel}: content differs")
    return diffs


# numpy's float kernels depend on the CPU (AVX2, AVX-512), so a number computed here may differ in
# its last bits from the committed one. The backend's tests hold it to 4-5 decimals; this check to 1e-6.
FLOAT_TOLERANCE = 1e-6


def json_differences(fresh, committed, where: str = "") -> list[str]:
    """Where two JSON values differ: exactly, except floats, which may differ by FLOAT_TOLERANCE (relative)."""
    if isinstance(fresh, float) and isinstance(committed, (int, float)) and not isinstance(committed, bool):
        ok = abs(fresh - committed) <= FLOAT_TOLERANCE * max(1.0, abs(fresh), abs(committed))
        return [] if ok else [f"{where or '$'}: {committed} -> {fresh}"]
    if isinstance(fresh, dict) and isinstance(committed, dict) and fresh.keys() == committed.keys():
        return [d for k in fresh for d in json_differences(fresh[k], committed[k], f"{where}.{k}")]
    if isinstance(fresh, list) and isinstance(committed, list) and len(fresh) == len(committed):
        return [d for i, (x, y) in enumerate(zip(fresh, committed)) for d in json_differences(x, y, f"{where}[{i}]")]
    return [] if fresh == committed else [f"{where or '$'}: content differs"]


if __name__ == "__main__":
    sys.exit(main())
