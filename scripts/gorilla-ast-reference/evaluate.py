"""Expected verdicts for the AST sub-tree match fixture, by Gorilla's evaluation logic.

Mirrors ShishirPatil/gorilla eval/eval-scripts/ast_eval_{hf,tf,th}.py (read, not copied): the
same extraction of the api_call from a response, the same walk over the parsed response's
subtrees, the same per-hub argument rules and the same question_id -> eval-set line mapping
(question_id N is line N of the hub's *_eval.json; "correct" means the first matching API in the
database has the question's domain). What differs from their scripts is only plumbing: one
response at a time, the modern py-tree-sitter API, and the grammar (tree-sitter-python 0.23.6,
the version our TypeScript port parses with; Gorilla built an older checkout into a .so).

Run from the repository root with scripts/codebleu-reference/requirements.txt installed:

    /tmp/codebleu-ref/bin/python scripts/gorilla-ast-reference/evaluate.py

Reads test/fixtures/metrics/gorilla-ast-responses.json, writes
test/fixtures/metrics/gorilla-ast-expected.json.
"""

import ctypes
import json
from pathlib import Path

import tree_sitter_python
from tree_sitter import Language, Parser

ROOT = Path(__file__).resolve().parents[2]
RESPONSES = ROOT / "test" / "fixtures" / "metrics" / "gorilla-ast-responses.json"
OUT = ROOT / "test" / "fixtures" / "metrics" / "gorilla-ast-expected.json"
EVAL_FILES = {"huggingface": "huggingface_eval.json", "tensorflowhub": "tensorflow_eval.json", "torchhub": "torchhub_eval.json"}


def python_parser():
    # py-tree-sitter 0.22 takes the grammar as an integer pointer; the 0.23 grammar wheel hands
    # out a capsule holding it.
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    parser = Parser()
    parser.language = Language(get_pointer(tree_sitter_python.language(), b"tree_sitter.Language"))
    return parser


PARSER = python_parser()


def parse(code):
    return PARSER.parse(bytes(code, "utf8")).root_node


def all_subtrees(root):
    """Pre-order-ish stack walk: (node, text of its first child or None), for the root and every
    node that has children, in the order Gorilla's get_all_sub_trees lists them."""
    stack, listed = [root], []
    while stack:
        node = stack.pop()
        listed.append((node, node.children[0].text if node.child_count > 0 else None))
        for child in node.children:
            if len(child.children) != 0:
                stack.append(child)
    return listed


def call_arguments(base_tree, hub):
    """The database API's arguments that a response must contain, by each hub script's rules."""
    if base_tree.child_count == 0:
        return []
    args = []
    for child in base_tree.children[0].children[0].children[1].children:
        text = child.text.decode()
        if hub == "huggingface":
            if "=" in text:
                args.append(child.children[2].text)
            elif text not in ("(", ")", ","):
                args.append(child.text)
        elif hub == "tensorflowhub":
            if "model=" in text or "model =" in text:
                args.append(child.children[2].text)
            elif text not in ("(", ")", ","):
                args.append(child.text)
        else:
            if "repo_or_dir" in text or "model" in text:
                args.append(child.children[2].text)
    return args


def first_matching_api(subtrees, database_trees, hub):
    for index, base_tree in enumerate(database_trees):
        if base_tree.children[0].children[0].child_count == 0:
            continue
        api_name = base_tree.children[0].children[0].children[0].text
        # As in Gorilla: without a subtree named like the API, the loop variable is left on the
        # last subtree, and that one is checked.
        chosen = subtrees[-1]
        for subtree in subtrees:
            if subtree[1] == api_name:
                chosen = subtree
                break
        args = call_arguments(base_tree, hub)
        if len(args) == 0:
            continue
        text = chosen[0].text.decode()
        if all(arg.decode().lstrip("'").rstrip("'") in text for arg in args):
            return index
    return -1


def extract_api_call(text, hub):
    """The api_call a response names, or None where the hub's script gives up on the response."""
    parts = text.split("api_call")
    if len(parts) == 1:
        # The HuggingFace and TensorFlow Hub scripts parse the whole response; TorchHub's counts
        # it as neither correct nor hallucinated.
        return None if hub == "torchhub" else parts[0]
    output = parts[1].split("api_provider")[0]
    start = output.index(":") if ":" in output else 0
    end = output.rindex(")") if ")" in output else -2
    return output[start + 2 : end + 1]


def load_hub(hub):
    with open(ROOT / "data" / "apibench" / f"{hub}_api.jsonl", encoding="utf-8") as f:
        database = [json.loads(line) for line in f]
    with open(ROOT / "data" / "apibench" / EVAL_FILES[hub], encoding="utf-8") as f:
        questions = [json.loads(line)["api_data"] for line in f]
    return database, [parse(entry["api_call"]) for entry in database], questions


def main():
    with open(RESPONSES, encoding="utf-8") as f:
        responses = json.load(f)["responses"]
    hubs = {hub: load_hub(hub) for hub in sorted({r["hub"] for r in responses})}
    results = {}
    counts = {"correct": 0, "wrong_api": 0, "hallucination": 0}
    for response in responses:
        database, database_trees, questions = hubs[response["hub"]]
        api_call = extract_api_call(response["text"], response["hub"])
        matched = -1
        if api_call is None:
            verdict = "wrong_api"
        else:
            matched = first_matching_api(all_subtrees(parse(api_call)), database_trees, response["hub"])
            if matched == -1:
                verdict = "hallucination"
            elif database[matched]["domain"] == questions[response["question_id"] - 1]["domain"]:
                verdict = "correct"
            else:
                verdict = "wrong_api"
        counts[verdict] += 1
        results[response["id"]] = {
            "verdict": verdict,
            "matched_api_index": matched if matched >= 0 else None,
            "matched_api_call": database[matched]["api_call"] if matched >= 0 else None,
        }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generated_by": "scripts/gorilla-ast-reference/evaluate.py", "counts": counts, "results": results}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(results)} verdicts to {OUT.relative_to(ROOT)}: {counts}")


if __name__ == "__main__":
    main()
