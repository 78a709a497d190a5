"""`rnnlab train auto` on a user's CSV: 3,000 IMDB training reviews as a `review,sentiment` file.

The file is what docs/own-data.md measures: 1,500 positive and 1,500 negative reviews of the
IMDB training set, drawn with seed 7, shuffled, labelled ``positive``/``negative`` as the common
Kaggle file is. The command then runs exactly as a user would type it, from a fresh process,
and the JSON it prints is saved with the wall time and the load average.

    .venv/bin/python benchmarks/auto_csv.py --out runs/own            # writes runs/own/reviews.csv too
    .venv/bin/python benchmarks/auto_csv.py --out runs/own --seed 1   # another split of the same file
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROWS = 3_000
FILE_SEED = 7


def write_csv(path: Path, rows: int = ROWS, seed: int = FILE_SEED) -> Path:
    """The balanced ``review,sentiment`` file (written once; the same bytes every time)."""
    from rnnlab.data import load_imdb

    if path.exists():
        return path
    own = load_imdb("train").sample(rows, seed=seed)  # as the tutorial notebook draws it
    names = {0: "negative", 1: "positive"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for text, label in zip(own.texts, own.labels):
            writer.writerow([text, names[int(label)]])
    os.replace(tmp, path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/own", help="folder for the CSV, the bundle and auto.json")
    parser.add_argument("--seed", type=int, default=0, help="the split's seed (0 is the reported one)")
    parser.add_argument("extra", nargs="*", help="more options for `rnnlab train auto` (after --)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    data = write_csv(out / "reviews.csv")
    bundle = out / f"auto-seed{args.seed}"
    command = [str(Path(sys.executable).with_name("rnnlab")), "train", "auto", "--dataset", str(data),
               "--out", str(bundle), "--seed", str(args.seed), "--json", *args.extra]
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True)
    wall = time.perf_counter() - started
    figures = json.loads(done.stdout)
    record = {"command": " ".join(command), "wall_seconds": round(wall, 1),
              "load_average": [round(x, 2) for x in (*load_before[:1], os.getloadavg()[0])], "result": figures}
    (out / f"auto-seed{args.seed}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: record[k] for k in ("wall_seconds", "load_average")} | {
        k: figures.get(k) for k in ("test_accuracy", "validation_accuracy", "chosen", "baseline", "blend")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
