"""Progress of long steps, drawn in one place and always on stderr.

On a terminal (stderr is a TTY) every long step shows a rich bar with its rate and time left;
in a log (CI, a pipe, a notebook's captured output) it prints a plain line at each tenth of
the work instead, so logs stay readable. ``RNNLAB_PROGRESS=0`` silences both, ``=1`` forces
bars, ``=lines`` forces lines. Stdout is left to results (a table, ``--json``).

The primitives: :func:`task` (one step with a known or unknown amount of work, bytes
included), :class:`Epochs` (a training loop's epochs and batches), :func:`bars` (several
rich bars at once, for a sweep) and :func:`note` (one line of news, printed above any bars).

Example:
    >>> with task("parsing", total=3) as advance:  # doctest: +SKIP
    ...     for _ in range(3):
    ...         advance()
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["Epochs", "bars", "console", "mode", "note", "task"]

# Plain-line mode: a line per this share of the work (or per this many items without a total).
_PLAIN_STEP = 0.1
_PLAIN_EVERY_ITEMS = 10_000
_PLAIN_EVERY_BYTES = 100 << 20
_BYTES = "bytes"

_console = None


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


def console():
    """The one rich console that progress is drawn on: stderr (looked up at each write)."""
    global _console
    if _console is None:
        # Loaded on use: rnnlab.data imports this module, and reading data needs no rich.
        from rich.console import Console

        _console = Console(stderr=True)
    return _console


def note(text: str, *, markup: bool = True) -> None:
    """Print one line of progress news on stderr, above any bars; nothing with ``RNNLAB_PROGRESS=0``."""
    if mode() != "off":
        console().print(text, markup=markup, highlight=False, soft_wrap=True)


def bars(*columns, enabled: bool | None = None, **options):
    """A rich ``Progress`` with these columns on the stderr console, for several bars at once.

    Args:
        columns: rich progress columns.
        enabled: draw the bars; None (the default) draws them when progress is shown as bars.
        options: passed to ``Progress`` (``transient``, ``speed_estimate_period``...).
    """
    from rich.progress import Progress

    enabled = mode() == "bar" if enabled is None else enabled
    return Progress(*columns, console=console(), disable=not enabled, **options)


@contextlib.contextmanager
def task(description: str, total: float | None = None, *, unit: str = "",
         quiet_below: float = 0, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Show progress of one step; yields ``advance(n=1, info="")``.

    Args:
        description: what is being done ("parsing the IMDB archive").
        total: the amount of work, or None when unknown (a count is shown).
        unit: what is counted ("reviews"); ``"bytes"`` shows sizes and a transfer rate, and the
            bar goes away when done.
        quiet_below: in plain-line mode, print nothing for a total below this (small jobs stay quiet).
        enabled: False shows nothing, whatever the mode (a caller's own switch). Defaults to True.
    """
    how = mode() if enabled else "off"
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
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    if unit == _BYTES:
        columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn()]
    else:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   TextColumn("{task.fields[info]}")]
    with bars(*columns, enabled=True, transient=unit == _BYTES) as shown:
        handle = shown.add_task(description, total=total, info="")

        def advance(n: float = 1, info: str = "") -> None:
            shown.update(handle, advance=n, info=info)

        yield advance


@contextlib.contextmanager
def _lines(description: str, total: float | None, unit: str):
    every = _PLAIN_EVERY_BYTES if unit == _BYTES else _PLAIN_EVERY_ITEMS
    state = {"done": 0.0, "next": _PLAIN_STEP if total else every, "info": ""}
    started = time.perf_counter()
    amount = _megabytes if unit == _BYTES else (lambda n: f"{n:,.0f}")
    suffix = "" if unit in ("", _BYTES) else f" {unit}"

    def line(final: bool = False) -> None:
        done = state["done"]
        seconds = time.perf_counter() - started
        if total:
            left = f", about {seconds * (total - done) / done:.0f} s left" if 0 < done < total and not final else ""
            text = (f"{description}: {100 * done / total:.0f}% ({amount(done)}/{amount(total)}{suffix}, "
                    f"{seconds:.0f} s{left})")
        else:
            text = f"{description}: {amount(done)}{suffix} ({seconds:.0f} s)"
        _write(text + (f" {state['info']}" if state["info"] else ""))

    def advance(n: float = 1, info: str = "") -> None:
        state["done"] += n
        state["info"] = info
        reached = state["done"] / total if total else state["done"]
        if reached >= state["next"] and not (total and state["done"] >= total):
            line()
            step = _PLAIN_STEP if total else every
            while state["next"] <= reached:
                state["next"] += step

    yield advance
    line(final=True)


def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _write(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Epochs:
    """Progress of a training loop: epoch and batch bars on a terminal, Keras-style lines in a log.

    The training engine's callback feeds it; a bar over the epochs and one over the current
    epoch's batches (with ETA and the latest loss and accuracy) on a terminal; in a log, the
    lines Keras' ``verbose=2`` prints (``Epoch 1/3`` then steps, time and metrics), on stderr.

    Example:
        >>> shown = Epochs()  # doctest: +SKIP
        >>> shown.begin(epochs=2, steps=10); shown.epoch_begin(0); shown.batch_end({"loss": 0.7})
        >>> shown.epoch_end(0, {"loss": 0.69, "accuracy": 0.51}); shown.close()
    """

    # What the bars show beside them; a log line shows every metric.
    SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy")

    def __init__(self):
        self.how = mode()
        self._bars = None
        self._batches = None
        self._started = 0.0
        self._lock = threading.Lock()

    def begin(self, epochs: int | None, steps: int | None) -> None:
        self.epochs, self.steps = epochs, steps
        if self.how != "bar":
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        self._bars = bars(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"), enabled=True)
        self._bars.start()
        self._epochs = self._bars.add_task("epochs", total=epochs, info="")
        self._batches = None

    def epoch_begin(self, epoch: int) -> None:
        self._started, self._step = time.perf_counter(), 0
        if self.how == "lines":
            _write(f"Epoch {epoch + 1}/{self.epochs}" if self.epochs else f"Epoch {epoch + 1}")
        elif self._bars is not None:
            if self._batches is not None:
                self._bars.remove_task(self._batches)
            self._batches = self._bars.add_task(f"epoch {epoch + 1}", total=self.steps, info="")

    def batch_end(self, logs: dict | None) -> None:
        with self._lock:  # Keras may call this from its callback threads
            self._step += 1
            if self._bars is not None and self._batches is not None:
                self._bars.update(self._batches, advance=1, info=self._shown(logs))

    def epoch_end(self, epoch: int, logs: dict | None) -> None:
        if self.how == "lines":
            seconds = time.perf_counter() - self._started
            steps = self.steps or self._step
            per_step = f" - {1000 * seconds / max(1, self._step):.0f}ms/step" if self._step else ""
            metrics = "".join(f" - {k}: {_metric(v)}" for k, v in sorted((logs or {}).items()))
            _write(f"{self._step}/{steps} - {seconds:.0f}s{per_step}{metrics}")
        elif self._bars is not None:
            self._bars.update(self._epochs, advance=1, info=self._shown(logs))

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def _shown(self, logs: dict | None) -> str:
        return "  ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items() if k in self.SHOWN)


def _metric(value) -> str:
    value = float(value)
    return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.4e}"
