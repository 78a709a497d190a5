"""Reproduce the textbook's IMDB comparison: five recurrent models, one table.

All five share the textbook preprocessing (vocabulary 8,000, maxlen 200, pre-padding), so the
data is encoded once and every model trains on exactly the same split.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rnnlab.files import write_text
from rnnlab.inference.bundle import Bundle
from rnnlab.models import get
from rnnlab.models.zoo import TEXTBOOK_NAMES
from rnnlab.training.engine import config_from_recipe, fit, prepare_for

EXAMPLE_REVIEWS = (
    "An excellent movie!",
    "Don't watch this movie - poor acting, poor script, bad direction.",
)


@dataclass
class Row:
    model: str
    params: int
    train_seconds: float
    test_accuracy: float
    published_accuracy: float | None


def results_markdown(rows: list[Row], title: str = "Textbook reproduction on IMDB") -> str:
    lines = [
        f"# {title}",
        "",
        "| model | parameters | train seconds | test accuracy (%) | textbook (%) | difference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ours = 100 * r.test_accuracy
        published = f"{r.published_accuracy:.2f}" if r.published_accuracy is not None else "-"
        diff = f"{ours - r.published_accuracy:+.2f}" if r.published_accuracy is not None else "-"
        lines.append(f"| {r.model} | {r.params:,} | {r.train_seconds:.1f} | {ours:.2f} | {published} | {diff} |")
    return "\n".join(lines) + "\n"


def reproduce_textbook(out: str | Path, *, models=TEXTBOOK_NAMES, seed: int = 0, limit: int | None = None,
                       epochs: int | None = None, verbose="auto", on_result=None) -> dict:
    """Train the textbook models, write `results.json` / `results.md`, save the best as `out/best`.

    Returns {"rows": [...], "best": name, "predictions": [...]}.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    named = [get(name) for name in models]
    first = named[0]
    data = prepare_for(first.spec, first.recipe, seed=seed, limit=limit)

    rows, best = [], None
    for item in named:
        recipe = item.recipe if epochs is None else item.recipe.__class__(**{**item.recipe.to_dict(), "epochs": epochs})
        result = fit(item.spec, data, config_from_recipe(recipe, seed=seed), recipe=recipe, verbose=verbose)
        row = Row(item.name, result.params, round(result.train_seconds, 1), round(result.test_accuracy, 4),
                  item.recipe.published_accuracy)
        rows.append(row)
        if on_result:
            on_result(row)
        if best is None or result.test_accuracy > best.test_accuracy:
            best = result

    best.save(out / "best")
    write_text(out / "results.json", json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    write_text(out / "results.md", results_markdown(rows))

    predictions = [p.to_dict() for p in Bundle.load(out / "best").predict(list(EXAMPLE_REVIEWS))]
    return {"rows": [asdict(r) for r in rows], "best": best.spec.name, "predictions": predictions,
            "data": data.info}
