"""Computes the expected CodeBLEU numbers for the committed pairs with the reference package
(`codebleu` on PyPI), for the TypeScript port's fixture test.

Run from the repository root, in a virtual environment with requirements.txt installed:

    python3 -m venv /tmp/codebleu-ref && /tmp/codebleu-ref/bin/pip install -r scripts/codebleu-reference/requirements.txt
    /tmp/codebleu-ref/bin/python scripts/codebleu-reference/compute.py

Reads test/fixtures/metrics/codebleu-pairs.json, writes test/fixtures/metrics/codebleu-expected.json.

Two things about the reference that this script has to handle:

* Grammar loading. codebleu 0.7.0 pins tree-sitter<0.23, whose Language() takes an integer pointer,
  while the grammar wheels we use (tree-sitter-python 0.23.6, tree-sitter-java 0.23.5: the
  sources our WebAssembly parser is built from) hand out a PyCapsule. (The 0.21 wheels that take
  the integer have no npm counterpart to build from.) We unwrap the capsule to that pointer and
  give codebleu the Language it would build itself. Nothing else in the package is touched.

* Hash-seed dependence. The data-flow match orders the parent variables of merged data-flow edges
  with list(set(...)) over variable names, and compares those lists order-sensitively, so its value
  can depend on PYTHONHASHSEED (random per process by default). We run every case under several
  fixed seeds in child processes. "expected" holds the values under PYTHONHASHSEED=0; cases whose
  data-flow value differs between seeds also list every value seen ("dataflow_match_by_seed").
"""

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "test" / "fixtures" / "metrics" / "codebleu-pairs.json"
OUT = ROOT / "test" / "fixtures" / "metrics" / "codebleu-expected.json"
HASH_SEEDS = list(range(24))


def tree_sitter_language(lang):
    import tree_sitter_java
    import tree_sitter_python
    from tree_sitter import Language

    module = {"python": tree_sitter_python, "java": tree_sitter_java}[lang]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return Language(get_pointer(module.language(), b"tree_sitter.Language"))


def compute_all():
    """Scores every case in this process (its PYTHONHASHSEED is whatever the parent set)."""
    import codebleu.codebleu as reference

    reference.get_tree_sitter_language = tree_sitter_language
    with open(PAIRS, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = {}
    for case in cases:
        scores = reference.calc_codebleu(case["references"], case["candidates"], case["lang"])
        results[case["id"]] = {
            "codebleu": scores["codebleu"],
            "ngram_match": scores["ngram_match_score"],
            "weighted_ngram_match": scores["weighted_ngram_match_score"],
            "syntax_match": scores["syntax_match_score"],
            "dataflow_match": scores["dataflow_match_score"],
        }
    return results


def run_with_seed(seed):
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    out = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def versions():
    from importlib.metadata import version

    names = ["codebleu", "tree-sitter", "tree-sitter-python", "tree-sitter-java"]
    found = {name: version(name) for name in names}
    found["python"] = sys.version.split()[0]
    return found


def main():
    if "--child" in sys.argv:
        # Keep the reference's own logging (e.g. its "no data-flow" warning) off stdout.
        import logging

        logging.disable(logging.WARNING)
        json.dump(compute_all(), sys.stdout)
        return

    by_seed = {seed: run_with_seed(seed) for seed in HASH_SEEDS}
    expected = {}
    seed_dependent = 0
    for case_id, scores in by_seed[0].items():
        entry = {"expected": scores}
        seen = sorted({round(by_seed[s][case_id]["dataflow_match"], 12) for s in HASH_SEEDS})
        if len(seen) > 1:
            seed_dependent += 1
            entry["dataflow_match_by_seed"] = seen
        for s in HASH_SEEDS:
            for key in ("ngram_match", "weighted_ngram_match", "syntax_match"):
                if by_seed[s][case_id][key] != scores[key]:
                    raise SystemExit(f"{case_id}: {key} depends on the hash seed, which was not expected")
        expected[case_id] = entry

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(
            {
                "generated_by": "scripts/codebleu-reference/compute.py",
                "reference_versions": versions(),
                "hash_seeds": HASH_SEEDS,
                "cases": expected,
            },
            f,
            indent=1,
        )
        f.write("\n")
    print(f"wrote {len(expected)} cases to {OUT.relative_to(ROOT)}; {seed_dependent} have a hash-seed dependent data-flow match")


if __name__ == "__main__":
    main()
