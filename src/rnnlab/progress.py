"""Progress of long steps: a rich bar with ETA on a terminal, a few plain lines elsewhere.

On a terminal (stderr is a TTY) every long step shows a bar with its rate and time left; in
a log (CI, a pipe, a notebook's captured output) it prints a plain line at each tenth of the
work instead, so logs stay readable. ``RNNLAB_PROGRESS=0`` silences both, ``=1`` forces bars.

Example:
    >>> with task("parsing", total=3) as advance:  # doctest: +SKIP
    ...     for _ in range(3):
    ...         advance()
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator

# Plain-line mode: a line per this share of the work (or per this many items without a total).
_PLAIN_STEP = 0.1
_PLAIN_EVERY_ITEMS = 10_000


def mode() -> str:
    """``"bar"``, ``"lines"`` or ``"off"`` (see the module docstring)."""
    setting = os.environ.get("RNNLAB_PROGRESS", "").strip().lower()
    if setting in ("0", "off", "false", "no"):
        return "off"
    if setting in ("1", "on", "true", "yes", "bar"):
        return "bar"
    if setting == "lines":
        return "lines"
    return "bar" if sys.stderr.isatty() else "lines"


@contextlib.contextmanager
def task(description: str, total: float | None = None, *, unit: str = "",
         quiet_below: float = 0) -> Iterator[Callable[..., None]]:
    """Show progress of one step; yields ``advance(n=1, info="")``.

    Args:
        description: what is being done ("parsing the IMDB archive").
        total: the amount of work, or None when unknown (a count is shown).
        unit: what is counted ("reviews", "MB").
        quiet_below: in plain-line mode, print nothing for a total below this (small jobs stay quiet).
    """
    how = mode()
    if how == "off" or (how == "lines" and total is not None and total < quiet_below):
        yield lambda n=1, info="": None
        return
    if how == "bar":
        with _bar(description, total, unit) as advance:
            yield advance
        return
    with _lines(description, total, unit) as advance:
        yield advance


@contextlib.contextmanager
def _bar(description: str, total: float | None, unit: str):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
               TextColumn("{task.fields[info]}")]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        handle = bar.add_task(description, total=total, info="")

        def advance(n: float = 1, info: str = "") -> None:
            bar.update(handle, advance=n, info=info)

        yield advance


@contextlib.contextmanager
def _lines(description: str, total: float | None, unit: str):
    state = {"done": 0.0, "next": _PLAIN_STEP if total else _PLAIN_EVERY_ITEMS, "info": ""}
    started = time.perf_counter()
    suffix = f" {unit}" if unit else ""

    def line(final: bool = False) -> None:
        done = state["done"]
        seconds = time.perf_counter() - started
        if total:
            left = f", about {seconds * (total - done) / done:.0f} s left" if 0 < done < total and not final else ""
            text = f"{description}: {100 * done / total:.0f}% ({done:,.0f}/{total:,.0f}{suffix}, {seconds:.0f} s{left})"
        else:
            text = f"{description}: {done:,.0f}{suffix} ({seconds:.0f} s)"
        sys.stderr.write(text + (f" {state['info']}" if state["info"] else "") + "\n")
        sys.stderr.flush()

    def advance(n: float = 1, info: str = "") -> None:
        state["done"] += n
        state["info"] = info
        reached = state["done"] / total if total else state["done"]
        if reached >= state["next"] and not (total and state["done"] >= total):
            line()
            step = _PLAIN_STEP if total else _PLAIN_EVERY_ITEMS
            while state["next"] <= reached:
                state["next"] += step

    yield advance
    line(final=True)
