"""Builds the committed list of (reference, candidate, lang) pairs for the CodeBLEU fixture.

Deterministic: the same data files always give the same pairs. Run from the repository root:

    python3 scripts/codebleu-reference/select_pairs.py

Writes test/fixtures/metrics/codebleu-pairs.json. Needs only the Python standard library.
Sources (see data/README.md / data/NOTICE for their licences):
  * Python: MBPP gold programs vs the ILF paper's CodeGen-Mono 6.1B programs and human refinements,
    APIBench reference code snippets, and hand-written degenerate cases.
  * Java: MBJP canonical solutions vs mutated variants of them, and hand-written degenerate cases.
"""

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "metrics" / "codebleu-pairs.json"


def read_jsonl(path):
    with open(ROOT / path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def apibench_code(record):
    """The <<<code>>> section of an APIBench reference answer, or the API's example code (TorchHub
    answers are a dict-like string without that section)."""
    text = record["code"]
    marker = "<<<code>>>:"
    if marker in text:
        return text.split(marker, 1)[1].strip()
    example = record["api_data"].get("example_code")
    if isinstance(example, list):
        example = "\n".join(example)
    return example if isinstance(example, str) and example.strip() else None


def python_pairs():
    pairs = []
    mbpp = {row["task_id"]: row for row in read_jsonl("data/mbpp/mbpp.jsonl")}
    ilf = sorted(read_jsonl("data/ilf/surge_annotations.jsonl"), key=lambda r: (r["task_id"], r["prompt"]))
    ilf = [row for row in ilf if row["task_id"] in mbpp]

    # MBPP gold vs the CodeGen program that failed the tests.
    for row in ilf[0:26]:
        pairs.append(("mbpp-gold-vs-codegen", mbpp[row["task_id"]]["code"], row["original_model_completion"]))
    # MBPP gold vs the human refinement.
    for row in ilf[26:42]:
        pairs.append(("mbpp-gold-vs-refinement", mbpp[row["task_id"]]["code"], row["unedited_annotator_completion"]))
    # Human refinement vs the CodeGen program it refines.
    for row in ilf[42:48]:
        pairs.append(("refinement-vs-codegen", row["unedited_annotator_completion"], row["original_model_completion"]))

    # APIBench reference snippets: two answers from the same hub (similar API usage, different code).
    for name, count in (("huggingface_eval.json", 5), ("tensorflow_eval.json", 4), ("torchhub_eval.json", 3)):
        snippets = [c for c in (apibench_code(r) for r in read_jsonl(f"data/apibench/{name}")) if c]
        for i in range(count):
            pairs.append((f"apibench-{name.split('_')[0]}", snippets[2 * i], snippets[2 * i + 1]))

    gold = mbpp[2]["code"]
    loop = "def total(xs):\n    s = 0\n    for x in xs:\n        s = s + x\n    return s\n"
    renamed = "def total(values):\n    acc = 0\n    for v in values:\n        acc = acc + v\n    return acc\n"
    degenerate = [
        ("empty-candidate", gold, ""),
        ("empty-reference", "", gold),
        ("both-empty", "", ""),
        ("whitespace-only-candidate", gold, "   \n\t\n"),
        ("identical", gold, gold),
        ("identical-loop", loop, loop),
        ("renamed-variables", loop, renamed),
        ("no-dataflow", "print('hello')", "print('world')"),
        ("no-dataflow-pass", "pass", "pass"),
        ("single-token-candidate", loop, "return"),
        ("two-token-candidate", loop, "return s"),
        ("candidate-much-longer", "def f(a):\n    return a\n", loop + renamed + gold + "\n" + loop.replace("total", "total2")),
        ("candidate-much-shorter", loop + renamed, "def total(xs):\n    return sum(xs)\n"),
        ("comments-and-docstrings", loop, '"""Module doc."""\n# leading comment\ndef total(xs):\n    """Sum."""\n    s = 0  # start\n    for x in xs:\n        s = s + x\n    return s\n'),
        ("unclosed-bracket", loop, "def total(xs):\n    s = sum([x for x in xs\n    return s\n"),
        ("unterminated-triple-quote", loop, 'def total(xs):\n    """never closed\n    return 0\n'),
        ("bad-dedent", loop, "def total(xs):\n        s = 0\n    return s\n"),
        ("unterminated-single-quote", loop, "def total(xs):\n    s = 'abc\n    return s\n"),
        ("line-continuation", "x = 1 + \\\n    2\ny = x\n", "x = 1 + 2\ny = x\n"),
        ("crlf-and-tabs", loop, loop.replace("\n", "\r\n").replace("    ", "\t")),
        ("non-ascii-strings", "def greet(name):\n    s = 'héllo ' + name\n    t = s + '→'\n    return t\n", "def greet(name):\n    s = 'hello ' + name\n    t = s\n    return t\n"),
        ("non-ascii-identifiers", "def f(größe):\n    ergebnis = größe * 2\n    return ergebnis\n", "def f(size):\n    result = size * 2\n    return result\n"),
        ("control-flow", "def g(n):\n    r = 0\n    while n > 0:\n        if n % 2:\n            r += n\n        elif n % 3 == 0:\n            r -= 1\n        else:\n            r = r * 2\n        n -= 1\n    return r\n", "def g(n):\n    r = 0\n    while n:\n        if n % 2 == 1:\n            r = r + n\n        else:\n            r = r * 2\n        n = n - 1\n    return r\n"),
        ("comprehension-lambda-defaults", "def h(xs, k=2, f=lambda v: v):\n    ys = [f(x) * k for x in xs if x]\n    a, b = ys[0], ys[-1]\n    return (a, b)\n", "def h(xs, k=3):\n    ys = [x * k for x in xs]\n    a, b = ys[0], ys[1]\n    return a, b\n"),
        ("fstring-walrus-with", "def r(p):\n    with open(p) as fh:\n        if (n := len(fh.read())) > 3:\n            return f'{p}: {n}'\n    return None\n", "def r(p):\n    fh = open(p)\n    n = len(fh.read())\n    return f'{p} {n}' if n > 3 else None\n"),
        ("keywords-only", "if True:\n    pass\nelse:\n    pass\n", "while True:\n    break\n"),
    ]
    for tag, ref, cand in degenerate:
        pairs.append((tag, ref, cand))
    return pairs


JAVA_TYPE = r"(?:int|long|double|float|boolean|char|String|Integer|List<[^=;()]*?>|Set<[^=;()]*?>|Map<[^=;()]*?>|ArrayList<[^=;()]*?>|HashMap<[^=;()]*?>|int\[\])"


def rename_locals(code):
    names = re.findall(JAVA_TYPE + r"\s+([a-z]\w*)\s*[=;:]", code)
    if not names:
        return None
    out = code
    for i, name in enumerate(dict.fromkeys(names)):
        out = re.sub(r"\b" + re.escape(name) + r"\b", f"v{i}_{name[:2]}", out)
    return out


def swap_operator(code, rng):
    spots = [m for m in re.finditer(r"(?<=[\w)\] ])(\+|-|<=|>=|<|>|==|!=|\*)(?=[\w( ])", code)]
    if not spots:
        return None
    m = spots[rng.randrange(len(spots))]
    swap = {"+": "-", "-": "+", "<=": "<", ">=": ">", "<": "<=", ">": ">=", "==": "!=", "!=": "==", "*": "/"}
    return code[: m.start()] + swap[m.group(1)] + code[m.end():]


def statement_lines(lines):
    return [i for i, line in enumerate(lines) if line.strip().endswith(";") and not line.strip().startswith("return")]


def delete_statement(code, rng):
    lines = code.split("\n")
    spots = statement_lines(lines)
    if not spots:
        return None
    del lines[spots[rng.randrange(len(spots))]]
    return "\n".join(lines)


def duplicate_statement(code, rng):
    lines = code.split("\n")
    spots = statement_lines(lines)
    if not spots:
        return None
    i = spots[rng.randrange(len(spots))]
    lines.insert(i, lines[i])
    return "\n".join(lines)


def change_literal(code, rng):
    spots = list(re.finditer(r"\b\d+\b", code))
    if not spots:
        return None
    m = spots[rng.randrange(len(spots))]
    return code[: m.start()] + str(int(m.group(0)) + 1) + code[m.end():]


def strip_javadoc(code, rng):
    out = re.sub(r"/\*\*.*?\*/", "", code, flags=re.S)
    return out if out != code else None


def truncate_half(code, rng):
    lines = code.split("\n")
    return "\n".join(lines[: len(lines) // 2])


def java_pairs():
    rng = random.Random(20240611)
    rows = [r for r in read_jsonl("data/mbxp/mbjp_release_v1.2.jsonl") if r.get("canonical_solution")]
    rows.sort(key=lambda r: int(r["task_id"].split("/")[1]))
    programs = [(r["task_id"], r["prompt"] + r["canonical_solution"], r["canonical_solution"]) for r in rows]

    mutations = [
        ("rename-locals", lambda c, _r: rename_locals(c)),
        ("swap-operator", swap_operator),
        ("delete-statement", delete_statement),
        ("duplicate-statement", duplicate_statement),
        ("change-literal", change_literal),
        ("strip-javadoc", strip_javadoc),
        ("truncate-half", truncate_half),
    ]
    pairs = []
    cursor = 0
    # Seven mutation kinds, six pairs each, each pair from a different MBJP task.
    for tag, mutate in mutations:
        made = 0
        while made < 6:
            task_id, full, _body = programs[cursor]
            cursor += 3
            mutated = mutate(full, rng)
            if mutated is None or mutated == full:
                continue
            pairs.append((f"mbjp-{tag}", full, mutated))
            made += 1
    # Method body only vs the full class (candidate much shorter, not a compilation unit).
    for task_id, full, body in programs[cursor : cursor + 3]:
        pairs.append(("mbjp-body-only", full, body))
    cursor += 3
    # Two unrelated tasks.
    for i in range(3):
        pairs.append(("mbjp-other-task", programs[cursor + 2 * i][1], programs[cursor + 2 * i + 1][1]))
    cursor += 6
    # Several mutations applied together.
    for task_id, full, _body in programs[cursor : cursor + 4]:
        mutated = full
        for _tag, mutate in mutations[:5]:
            mutated = mutate(mutated, rng) or mutated
        pairs.append(("mbjp-combined-mutations", full, mutated))
    cursor += 4

    gold = programs[0][1]
    simple = "class A {\n    int sum(int[] xs) {\n        int s = 0;\n        for (int x : xs) {\n            s += x;\n        }\n        return s;\n    }\n}\n"
    degenerate = [
        ("empty-candidate", gold, ""),
        ("empty-reference", "", gold),
        ("both-empty", "", ""),
        ("identical", gold, gold),
        ("identical-simple", simple, simple),
        ("no-dataflow", "class A {}", "class B {}"),
        ("single-token-candidate", simple, "return"),
        ("candidate-much-longer", "class A { int f(int a) { return a; } }", simple + "\n" + gold + "\n" + simple.replace("class A", "class C")),
        ("candidate-much-shorter", gold, "class A { }"),
        ("comments-everywhere", simple, "// header\nclass A {\n    /* block\n       comment */\n    int sum(int[] xs) { // trailing\n        int s = 0; /* inline */\n        for (int x : xs) { s += x; }\n        return s;\n    }\n}\n"),
        ("comment-markers-in-strings", "class A { String u() { String a = \"http://x\"; String b = \"/* no */\"; char c = '\"'; return a + b + c; } }", "class A { String u() { String a = \"http:\"; return a; } }"),
        ("unterminated-block-comment", simple, "class A {\n    int f() { return 1; }\n    /* never closed\n}\n"),
        ("unterminated-string", simple, "class A {\n    String f() { return \"abc; }\n}\n"),
        ("crlf-and-tabs", simple, simple.replace("\n", "\r\n").replace("    ", "\t")),
        ("non-ascii", "class A { String f() { String größe = \"héllo→\"; return größe; } }", "class A { String f() { String size = \"hello\"; return size; } }"),
        ("control-flow", "class A { int g(int n) { int r = 0; while (n > 0) { if (n % 2 == 1) { r += n; } else if (n % 3 == 0) { r--; } else { r = r * 2; } n--; } return r; } }", "class A { int g(int n) { int r = 0; for (int i = n; i > 0; i--) { if (i % 2 == 1) r = r + i; else r *= 2; } return r; } }"),
    ]
    for tag, ref, cand in degenerate:
        pairs.append((tag, ref, cand))
    return pairs


def corpus_cases():
    """Corpus-level cases: several candidates, some with more than one reference."""
    mbpp = {row["task_id"]: row for row in read_jsonl("data/mbpp/mbpp.jsonl")}
    ilf = sorted(read_jsonl("data/ilf/surge_annotations.jsonl"), key=lambda r: (r["task_id"], r["prompt"]))
    ilf = [row for row in ilf if row["task_id"] in mbpp]
    rows = [r for r in read_jsonl("data/mbxp/mbjp_release_v1.2.jsonl") if r.get("canonical_solution")]
    java = [r["prompt"] + r["canonical_solution"] for r in rows[200:204]]
    return [
        {
            "id": "corpus-python-multi-reference",
            "lang": "python",
            "references": [
                [mbpp[r["task_id"]]["code"], r["unedited_annotator_completion"]] for r in ilf[60:64]
            ],
            "candidates": [r["original_model_completion"] for r in ilf[60:64]],
        },
        {
            "id": "corpus-python-single-reference",
            "lang": "python",
            "references": [[mbpp[r["task_id"]]["code"]] for r in ilf[64:70]],
            "candidates": [r["original_model_completion"] for r in ilf[64:70]],
        },
        {
            "id": "corpus-java-multi-reference",
            "lang": "java",
            "references": [[java[0], java[1]], [java[2]], [java[3], java[0]]],
            "candidates": [java[0].replace("int ", "long "), java[2], java[1]],
        },
    ]


def main():
    cases = []
    used_ids = set()
    for lang, pairs in (("python", python_pairs()), ("java", java_pairs())):
        for tag, ref, cand in pairs:
            case_id, i = f"{lang}-{tag}", 1
            while case_id in used_ids:
                i += 1
                case_id = f"{lang}-{tag}-{i}"
            used_ids.add(case_id)
            cases.append({"id": case_id, "lang": lang, "references": [[ref]], "candidates": [cand]})
    cases.extend(corpus_cases())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    counts = {}
    for c in cases:
        counts[c["lang"]] = counts.get(c["lang"], 0) + 1
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}: {counts}")


if __name__ == "__main__":
    main()
