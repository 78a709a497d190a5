"""`rnnlab tune`: a hyperparameter search over a recipe, on Ray Tune with Optuna and ASHA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, err, print_json
from rnnlab.configfile import read_config
from rnnlab.errors import InvalidInputError

app = typer.Typer()


@app.command()
def tune(
    config: Annotated[Path, typer.Argument(
        help="Search config (kind = \"tune\"): a recipe plus [space] and [search] tables.")],
    out: Annotated[Optional[Path], typer.Option(help="Search folder (default: experiments/NAME); the same folder "
                                                     "resumes a stopped search.")] = None,
    trials: Annotated[Optional[int], typer.Option(min=1, help="Trials to run (default: the config's).")] = None,
    time_budget: Annotated[Optional[str], typer.Option(
        help="Stop the search after this long: seconds or like 20m, 1h (default: the config's).")] = None,
    cpus_per_trial: Annotated[Optional[float], typer.Option(min=0.01, help="CPUs per trial (default 1).")] = None,
    gpus_per_trial: Annotated[Optional[float], typer.Option(min=0, help="GPUs per trial (default 0).")] = None,
    concurrent: Annotated[Optional[int], typer.Option(min=1, help="Trials at once (default: as many as fit).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most N training examples (quick look).")] = None,
    address: Annotated[Optional[str], typer.Option(envvar="RAY_ADDRESS", help=(
        "Run the trials on the Ray cluster at HOST:PORT (default: $RAY_ADDRESS, else Ray on this machine)."))] = None,
    final: Annotated[bool, typer.Option(help="Train the best settings as a bundle and score the test split once.")]
    = True,
    as_json: JsonFlag = False,
):
    """Search a recipe's settings on validation rows, then train the best once and score it on test.

    Writes OUT/search.md, trials.csv/json, importance.png, best.toml (a ready-to-run recipe), and
    with --final (the default) OUT/best/bundle and OUT/results.json.
    """
    # Loaded on use: Ray, Optuna and Keras take seconds to import; `rnnlab --help` stays instant.
    from rnnlab.experiments.kinds import run_config
    from rnnlab.experiments.recipes.tune import is_search

    raw = read_config(config, "Search config")
    if not is_search(raw):
        raise InvalidInputError(f"{config} is not a search config: it needs kind = \"tune\" with [space] and "
                                "[search] tables (see configs/imdb-tune.toml).")
    raw = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    if limit is not None:
        raw.setdefault("data", {})["limit"] = limit
    search = {"trials": trials, "time_budget": time_budget, "cpus_per_trial": cpus_per_trial,
              "gpus_per_trial": gpus_per_trial, "concurrent": concurrent}
    raw.setdefault("search", {}).update({k: v for k, v in search.items() if v is not None})
    if address is not None:
        raw.setdefault("run", {})["address"] = address
    out = out or Path("experiments") / str(raw.get("name", config.stem))
    err.print(f"[bold]{raw.get('name')}[/] (search) -> {out}")
    r = run_config(raw, out, validation_only=not final, progress=err.print)
    if as_json:
        return print_json(r)
    table = Table(title=f"{len(r['runs'])} trials, best first")
    keys = list(r["best"]["params"])
    metric = r.get("metric", "val_accuracy")
    by_accuracy = metric == "val_accuracy"
    for column in ("trial", *[k.split(".", 1)[-1] for k in keys], "val. acc." if by_accuracy else "val. loss", "epochs"):
        table.add_column(column)

    def rank(row):  # best first, errors last
        value = row.get(metric)
        return (value is None, 0 if value is None else -value if by_accuracy else value)

    for row in sorted(r["runs"], key=rank)[:10]:
        value = row.get(metric)
        shown = "error" if value is None else f"{100 * value:.2f}%" if by_accuracy else f"{value:.4f}"
        table.add_row(str(row["trial"]), *[_show(row["params"].get(k)) for k in keys], shown,
                      f"{row['epochs']}{' (stopped)' if row['stopped_early'] else ''}")
    console.print(table)
    console.print(f"search: {r['trials']} trials in {r['search_seconds']:.0f} s, {r['stopped_early']} stopped early; "
                  f"test examples read: {r['test_examples_read_by_search']}")
    console.print(f"best config: {r['best_config']}")
    if r.get("test_accuracy") is not None:
        console.print(f"best retrained: validation {100 * r['best_validation_accuracy']:.2f}%, test "
                      f"{100 * r['test_accuracy']:.2f}% ({r['test_examples']:,} examples, read once); "
                      f"bundle {r['bundle']}")
    elif (r.get("test") or {}).get("regression"):
        test = r["test"]
        console.print(f"best retrained: test MAE {test['mae']:.4f}, RMSE {test['rmse']:.4f}, R^2 {test['r2']:.4f} "
                      f"({r['test_examples']:,} examples, read once); bundle {r['bundle']}")
    console.print(f"report: {r['report']}")


def _show(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
