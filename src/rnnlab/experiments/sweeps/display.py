"""What a sweep shows while it runs: one bar for the runs, one per run in progress."""

from __future__ import annotations

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rnnlab import progress


class SweepDisplay:
    """A sweep's progress on stderr (`rnnlab.progress`): bars on a terminal, and a line per finished run.

    Args:
        total: runs in the experiment. done: runs already finished before this sweep.
        enabled: draw bars; None (the default) draws them where `rnnlab.progress` draws bars
            (a terminal, or ``RNNLAB_PROGRESS=1``). The line per run follows ``RNNLAB_PROGRESS``.
    """

    def __init__(self, total: int, done: int = 0, enabled: bool | None = None):
        # A long estimate window: runs take minutes, and the default 30 s would see too few.
        self.progress = progress.bars(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            enabled=enabled, speed_estimate_period=24 * 3600,
        )
        self.overall = self.progress.add_task("runs", total=total, completed=done)
        self._slots: dict[object, int] = {}
        self._labels: dict[object, str] = {}

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def run_started(self, slot, model: str, run_index: int, runs: int) -> None:
        label = self._labels[slot] = escape(f"  {model} run {run_index + 1}/{runs}")
        if slot in self._slots:
            self.progress.reset(self._slots[slot], description=label, completed=0, visible=True)
        else:
            self._slots[slot] = self.progress.add_task(label, total=None)

    def epoch_progress(self, slot, update: dict) -> None:
        task = self._slots.get(slot)
        if task is None:
            return
        self.progress.update(task, description=f"{self._labels[slot]} epoch {update['epoch']}/{update['epochs']}",
                             total=update["steps"] or None, completed=update["step"])

    def run_finished(self, slot, outcome: dict) -> None:
        if outcome["status"] in ("done", "failed"):
            self.progress.advance(self.overall)
        task = self._slots.get(slot)
        if task is not None:
            self.progress.update(task, visible=False)
        progress.note(describe_outcome(outcome))


def describe_outcome(outcome: dict) -> str:
    who = escape(f"{outcome['model']} run {outcome['run_index'] + 1}")
    if outcome["status"] == "done":
        return f"[green]done[/]   {who}: test accuracy {100 * outcome['test_accuracy']:.2f}% " \
               f"({outcome['train_seconds']:.0f} s training)"
    if outcome["status"] == "failed":
        return f"[red]failed[/] {who}: {escape(' '.join(outcome['error'].split()))}"
    return f"[yellow]skipped[/] {who}: {escape(outcome.get('reason', 'taken by another process'))}"
