"""Computes the expected crowd-aggregation outputs with the reference package (crowd-kit 1.4.2 on
PyPI) for the TypeScript aggregators' fixture test (test/crowd/).

Run from the repository root, in a virtual environment with requirements.txt installed:

    python3 -m venv /tmp/crowdkit-ref && /tmp/crowdkit-ref/bin/pip install -r scripts/crowd-kit-reference/requirements.txt
    /tmp/crowdkit-ref/bin/python scripts/crowd-kit-reference/compute.py

It (1) writes the simulated datasets test/fixtures/crowd/datasets/sim-*.csv (seeded, so the same
every run), (2) reads every test/fixtures/crowd/datasets/*.csv (the toy ones come from crowd-kit's
own tests, see toy_datasets.py) the way a user would, pandas.read_csv with its type inference
(numbers become numbers; "NA" stays a string; True/False labels are kept as the
strings, which sort the same, because crowd-kit's GLAD cannot take boolean labels), and (3) writes
test/fixtures/crowd/expected/<dataset>.json with every method's labels, probas and estimates at
crowd-kit's defaults, plus test/fixtures/crowd/krippendorff.json (PyPI krippendorff, nominal)
and test/fixtures/crowd/numeric-reference.json (numpy RandomState draws, scipy digamma, scipy's CG on
the Rosenbrock function) and test/fixtures/crowd/honeypot.json (simulated honeypot line labels
and scikit-learn's l1-regularised logistic regression on them).
Keys are str() of the pandas values.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "crowd"
DATASETS = FIXTURES / "datasets"
EXPECTED = FIXTURES / "expected"


# ---------------------------------------------------------------- simulated datasets


def simulate(name, seed, n_tasks, classes, workers, answer_rate, shuffle=True):
    """Seeded simulated annotators. Each worker is (id, kind, value): kind "reliable" answers the
    true label with probability value, else a uniformly chosen wrong label; "spammer" answers
    uniformly at random; "constant" always answers the label value. Each worker answers each task
    with probability answer_rate (missing answers), but every task gets at least one answer."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(classes), size=n_tasks)
    rows = []
    for t in range(n_tasks):
        answered = rng.random(len(workers)) < answer_rate
        if not answered.any():
            answered[rng.integers(0, len(workers))] = True
        for (worker, kind, value), does in zip(workers, answered):
            if not does:
                continue
            if kind == "reliable":
                if rng.random() < value:
                    label = truth[t]
                else:
                    wrong = [c for c in range(len(classes)) if c != truth[t]]
                    label = wrong[rng.integers(0, len(wrong))]
            elif kind == "spammer":
                label = rng.integers(0, len(classes))
            else:
                label = classes.index(value)
            rows.append((f"task-{t:03d}" if isinstance(name, str) else t, worker, classes[label]))
    if shuffle:
        order = rng.permutation(len(rows))
        rows = [rows[i] for i in order]
    return rows


def simulated_datasets():
    return {
        # Binary, five reliable annotators of falling accuracy, a spammer, one who always says "yes".
        "sim-binary-spammer": simulate(
            "s", 11, 40, ["no", "yes"],
            [("ann-a", "reliable", 0.92), ("ann-b", "reliable", 0.85), ("ann-c", "reliable", 0.78),
             ("ann-d", "reliable", 0.7), ("ann-e", "reliable", 0.62), ("spam-1", "spammer", None),
             ("always-yes", "constant", "yes")],
            answer_rate=0.75),
        # Three classes with labels that need CSV quoting (a comma, quotes, spaces), missing answers.
        "sim-three-class-quoted": simulate(
            "s", 23, 50, ["cat", "dog, big", 'say "bird"'],
            [("w01", "reliable", 0.9), ("w02", "reliable", 0.8), ("w03", "reliable", 0.75),
             ("w04", "reliable", 0.65), ("w05", "spammer", None), ("w06", "constant", "cat"),
             ("w07", "reliable", 0.55)],
            answer_rate=0.6),
        # Five numeric classes (pandas reads them as integers: they sort numerically, 2 before 10).
        "sim-five-class-numeric": simulate(
            "s", 37, 45, [1, 2, 3, 10, 20],
            [("7", "reliable", 0.85), ("12", "reliable", 0.8), ("3", "reliable", 0.7),
             ("25", "reliable", 0.6), ("4", "spammer", None), ("100", "constant", 2),
             ("8", "reliable", 0.9), ("31", "reliable", 0.5)],
            answer_rate=0.55),
        # Larger: 110 tasks, twelve annotators of mixed accuracy, four classes. GLAD's M-steps here
        # run to their iteration limit, where rounding differences grow (see README).
        "sim-four-class-large": simulate(
            "s", 111, 110, ["k0", "k1", "k2", "k3"],
            [(f"u{i:02d}", "reliable", acc) for i, acc in enumerate([0.93, 0.88, 0.82, 0.77, 0.71, 0.66, 0.6, 0.55, 0.45, 0.35])]
            + [("spam", "spammer", None), ("always-k0", "constant", "k0")],
            answer_rate=0.5),
        # Few answers per task, many exact ties (tie-breaking and label order).
        "sim-ties-sparse": simulate(
            "s", 5, 30, ["B", "a", "C", "b"],
            [("x", "reliable", 0.7), ("y", "reliable", 0.6), ("z", "spammer", None), ("q", "constant", "b")],
            answer_rate=0.45),
    }


def write_simulated():
    DATASETS.mkdir(parents=True, exist_ok=True)
    for name, rows in simulated_datasets().items():
        with open(DATASETS / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["task", "worker", "label"])
            writer.writerows(rows)


# ---------------------------------------------------------------- reference outputs


def key(value):
    return str(value.item() if hasattr(value, "item") else value)


def series(s):
    return {key(k): float(v) for k, v in s.items()}


def frame(df):
    return {key(t): {key(c): float(df.loc[t, c]) for c in df.columns} for t in df.index}


def labels_of(s):
    return {key(k): key(v) for k, v in s.items()}


def errors_of(errors):
    """DS confusion matrices as errors[worker][observed label][true label]."""
    out = {}
    for (worker, observed), row in errors.iterrows():
        out.setdefault(key(worker), {})[key(observed)] = {key(c): float(v) for c, v in row.items()}
    return out


def run_methods(data):
    from crowdkit.aggregation import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene, Wawa

    results = {}
    mv = MajorityVote().fit(data)
    results["majority-vote"] = {"labels": labels_of(mv.labels_), "probas": frame(mv.probas_), "skills": series(mv.skills_)}
    wawa = Wawa()
    probas = wawa.fit_predict_proba(data)
    results["wawa"] = {"labels": labels_of(wawa.labels_), "probas": frame(probas), "skills": series(wawa.skills_)}
    ds = DawidSkene().fit(data)
    results["dawid-skene"] = {
        "labels": labels_of(ds.labels_), "probas": frame(ds.probas_), "priors": series(ds.priors_),
        "errors": errors_of(ds.errors_), "iterations": len(ds.loss_history_),
    }
    oc = OneCoinDawidSkene().fit(data)
    results["one-coin-dawid-skene"] = {
        "labels": labels_of(oc.labels_), "probas": frame(oc.probas_), "priors": series(oc.priors_),
        "skills": series(oc.skills_), "errors": errors_of(oc.errors_), "iterations": len(oc.loss_history_),
    }
    glad = GLAD().fit(data)
    results["glad"] = {
        "labels": labels_of(glad.labels_), "probas": frame(glad.probas_), "skills": series(glad.alphas_),
        "difficulties": series(glad.betas_), "iterations": len(glad.loss_history_),
    }
    mace = MACE().fit(data)
    workers = pd.unique(data["worker"])
    label_names = pd.unique(data["label"])
    results["mace"] = {
        "labels": labels_of(mace.labels_), "probas": frame(mace.probas_),
        "spamming": {key(w): [float(x) for x in mace.spamming_[i]] for i, w in enumerate(workers)},
        "thetas": {key(w): {key(l): float(mace.thetas_[i, j]) for j, l in enumerate(label_names)} for i, w in enumerate(workers)},
    }
    return results


def krippendorff_cases():
    """Nominal alpha on reliability matrices (coders x units, None = missing) from the datasets."""
    import krippendorff

    cases = {}
    for path in sorted(DATASETS.glob("*.csv")):
        data = pd.read_csv(path, keep_default_na=False, dtype=str)
        labels = sorted(data["label"].unique())
        matrix = data.pivot_table(index="worker", columns="task", values="label", aggfunc="first")
        coded = matrix.map(lambda v: np.nan if pd.isna(v) else float(labels.index(v)))
        alpha = krippendorff.alpha(reliability_data=coded.to_numpy(dtype=float), level_of_measurement="nominal")
        cases[path.stem] = float(alpha)
    return cases


def numeric_reference():
    """numpy's RandomState streams (MACE's initialisation), scipy's digamma and scipy's CG (GLAD's
    M-step), for their unit tests."""
    from scipy.special import digamma

    streams = {str(seed): np.random.RandomState(seed).random_sample(8).tolist() for seed in (0, 1, 42, 4294967295)}
    skip = np.random.RandomState(7)
    skip.random_sample(1000)
    points = [1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 6.0, 9.99, 10.0, 25.5, 1e3, 1e6]
    from scipy.optimize import minimize, rosen, rosen_der

    cg = []
    for x0, gtol, maxiter in (([-1.2, 1.0], 1e-5, None), ([-1.2, 1.0], 1e-2, None), ([-1.2, 1.0, 0.5, 2.0], 1e-2, 25)):
        res = minimize(rosen, x0, jac=rosen_der, method="CG", options={"gtol": gtol, "maxiter": maxiter})
        cg.append({"x0": x0, "gtol": gtol, "maxiter": maxiter, "x": res.x.tolist(), "nit": int(res.nit), "status": int(res.status)})
    return {
        "conjugate_gradient_rosenbrock": cg,
        "random_sample": streams,
        "random_sample_seed7_after_1000": skip.random_sample(4).tolist(),
        "digamma": {"x": points, "y": digamma(points).tolist()},
    }


def honeypot_reference():
    """Simulated honeypot line labels (known answers) and the l1-regularised logistic regression
    of the line consensus fitted by scikit-learn (liblinear, no intercept): minimising
    ||w||_1 + C * sum(log-loss) with C = 1 / (n * lambda) has the same minimiser as
    mean(log-loss) + lambda * ||w||_1, the TypeScript fit's objective."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2503)
    annotators = [("exact", 0.95), ("good", 0.9), ("fair", 0.8), ("weak", 0.68), ("coin", 0.5), ("contrarian", 0.3)]
    known = {f"hp{j // 8:02d}:{j % 8 + 1}": ("correct" if rng.random() < 0.6 else "wrong") for j in range(96)}
    labels = []
    for item, truth in known.items():
        for name, p in annotators:
            if rng.random() < 0.7:
                right = rng.random() < p
                labels.append({"item": item, "annotator": name, "verdict": truth if right else ("wrong" if truth == "correct" else "correct")})
    names = [a for a, _ in annotators]
    items = list(known)
    X = np.zeros((len(items), len(names)))
    for l in labels:
        X[items.index(l["item"]), names.index(l["annotator"])] = 1.0 if l["verdict"] == "correct" else -1.0
    y = np.array([1 if known[i] == "correct" else 0 for i in items])
    fits = []
    for lam in (0.005, 0.03, 0.1):
        model = LogisticRegression(penalty="l1", C=1.0 / (len(items) * lam), fit_intercept=False, solver="liblinear", tol=1e-12, max_iter=100000, random_state=0)
        model.fit(X, y)
        fits.append({"lambda": lam, "weights": dict(zip(names, model.coef_[0].tolist()))})
    return {"known": known, "labels": labels, "l1_logistic_sklearn": fits}


def main():
    write_simulated()
    with open(FIXTURES / "honeypot.json", "w", encoding="utf-8") as f:
        json.dump(honeypot_reference(), f, indent=1)
        f.write("\n")
    with open(FIXTURES / "numeric-reference.json", "w", encoding="utf-8") as f:
        json.dump(numeric_reference(), f, indent=1)
        f.write("\n")
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for path in sorted(DATASETS.glob("*.csv")):
        data = pd.read_csv(path, keep_default_na=False)
        if data["label"].dtype == bool:
            # GLAD cannot take boolean labels (it indexes columns by label); the strings sort the same.
            data["label"] = data["label"].astype(str)
        out = {"dataset": path.name, "crowd_kit": "1.4.2", "methods": run_methods(data)}
        with open(EXPECTED / f"{path.stem}.json", "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"{path.stem}: {len(data)} answers, {data['task'].nunique()} tasks, {data['worker'].nunique()} workers")
    with open(FIXTURES / "krippendorff.json", "w", encoding="utf-8") as f:
        json.dump({"krippendorff": "0.9.0", "level": "nominal", "alpha": krippendorff_cases()}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
