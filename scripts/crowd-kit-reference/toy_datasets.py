"""Writes crowd-kit's own test toy data (the inline pytest fixtures in its tests/conftest.py) as
CSV files with the header task,worker,label, for the reference fixtures.

crowd-kit's dataset loaders download their data, which cannot work here, so the fixture test uses
these small inline tables instead. Run once from the repository root with a checkout of
crowd-kit's repository (any commit that has tests/conftest.py with these fixtures):

    python3 scripts/crowd-kit-reference/toy_datasets.py /path/to/crowd-kit/tests/conftest.py

Writes test/fixtures/crowd/datasets/{toy-ysda,simple,bool-labels}.csv. Needs pandas and numpy.
"""

import csv
import importlib.util
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "crowd" / "datasets"
FIXTURES = {"toy_answers_df": "toy-ysda", "simple_answers_df": "simple", "data_with_bool_labels": "bool-labels"}


def load_conftest(path):
    # The conftest decorates its functions with pytest.fixture; an identity decorator lets us call
    # them directly without pytest installed.
    sys.modules["pytest"] = types.SimpleNamespace(fixture=lambda f: f)
    spec = importlib.util.spec_from_file_location("crowdkit_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    conftest = load_conftest(sys.argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    for fixture, name in FIXTURES.items():
        frame = getattr(conftest, fixture)()
        with open(OUT / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["task", "worker", "label"])
            for row in frame[["task", "worker", "label"]].itertuples(index=False):
                writer.writerow([str(v) for v in row])
        print(f"{name}: {len(frame)} answers")


if __name__ == "__main__":
    main()
