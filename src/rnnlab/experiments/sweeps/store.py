"""One SQLite file per experiment folder: its config, one row per run, the baselines.

A run row goes `pending` -> `running` (claimed by one process) -> `done` or `failed`, each
step a single committed transaction, so a process killed at any moment leaves at most its
current run `running`. A later sweep finds that the owner is gone and runs it again; the
(model, run_index) key makes a run impossible to count twice, and a commit is accepted only
from the process that holds the claim.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.experiments.sweeps.config import ExperimentConfig, PlannedRun

FILENAME = "experiment.sqlite"
STATUSES = ("pending", "running", "done", "failed")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    config TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    model TEXT NOT NULL,
    run_index INTEGER NOT NULL,
    spec TEXT,
    recipe TEXT,
    init_seed INTEGER,
    data_seed INTEGER,
    split_seed INTEGER,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    history TEXT,
    test_accuracy REAL,
    confusion_matrix TEXT,
    test TEXT,
    params INTEGER,
    train_seconds REAL,
    init_weights_hash TEXT,
    data TEXT,
    backend TEXT,
    versions TEXT,
    started TEXT,
    finished TEXT,
    error TEXT,
    PRIMARY KEY (model, run_index)
);
CREATE TABLE IF NOT EXISTS baselines (
    data_key TEXT PRIMARY KEY,
    split_seed INTEGER,
    result TEXT NOT NULL,
    created TEXT NOT NULL
);
"""
_JSON_COLUMNS = ("spec", "recipe", "history", "confusion_matrix", "test", "data", "versions")


class ExperimentMismatchError(RnnlabError):
    """The folder already holds an experiment with a different config."""


class NotAnExperimentError(RnnlabError, FileNotFoundError):
    """The folder holds no experiment database."""


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def process_token(pid: int | None = None) -> str:
    """host:pid:start-time of a process: unlike a bare pid, never shared with a later process."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    # Field 22 (start time in clock ticks) counted after the parenthesised command name.
    return stat.rsplit(")", 1)[1].split()[19]


def owner_alive(token: str | None) -> bool:
    """Whether the process that wrote `token` is still running (on this machine)."""
    if not token:
        return False
    host, pid, started = token.rsplit(":", 2)
    if host != socket.gethostname():
        # SQLite's WAL mode only works on one machine, so another host's claim is stale:
        # the folder was copied here after that process stopped.
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started == "?" or _start_time(int(pid)) == started


@dataclass
class RunRecord:
    """One row of the runs table, JSON columns decoded."""

    model: str
    run_index: int
    status: str
    init_seed: int | None = None
    data_seed: int | None = None
    split_seed: int | None = None
    spec: dict | None = None
    recipe: dict | None = None
    owner: str | None = None
    attempts: int = 0
    history: dict | None = None
    test_accuracy: float | None = None
    confusion_matrix: list | None = None
    test: dict | None = None
    params: int | None = None
    train_seconds: float | None = None
    init_weights_hash: str | None = None
    data: dict | None = None
    backend: str | None = None
    versions: dict | None = None
    started: str | None = None
    finished: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExperimentStore:
    """The experiment database in `directory` (created with `create=True`).

    Args:
        directory: the experiment folder; the database is `directory/experiment.sqlite`.
        create: create the folder and database when missing. Defaults to True.

    Example:

    >>> store = ExperimentStore("experiments/demo")  # doctest: +SKIP
    >>> store.counts()  # doctest: +SKIP
    {'pending': 0, 'running': 0, 'done': 0, 'failed': 0}
    """

    def __init__(self, directory: str | Path, create: bool = True):
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        if not self.path.exists():
            if not create:
                raise NotAnExperimentError(f"{self.directory} holds no experiment ({FILENAME} not found).")
            self.directory.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every write below is its own short transaction, or an explicit
        # BEGIN IMMEDIATE block when it must read and write atomically.
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----------------------------------------------------------------- config
    def config(self) -> ExperimentConfig | None:
        row = self._db.execute("SELECT config FROM experiment WHERE id = 1").fetchone()
        return None if row is None else ExperimentConfig.from_dict(json.loads(row["config"]))

    def initialise(self, config: ExperimentConfig) -> None:
        """Record `config` in a new folder, or check that it is the folder's config."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            stored = self.config()
            if stored is None:
                self._db.execute("INSERT INTO experiment (id, config, created) VALUES (1, ?, ?)",
                                 (config.to_json(), now()))
            else:
                changed = stored.differences(config)
                if changed:
                    raise ExperimentMismatchError(
                        f"{self.directory} already holds a different experiment ({'; '.join(changed)}). "
                        "Rerun with the same settings to resume it, or choose another folder with --out.")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------- runs
    def add_planned(self, plans: list[PlannedRun], specs: dict[str, tuple[dict, dict]]) -> None:
        """Insert a pending row for each planned run not already present."""
        rows = [(p.model, p.run_index, json.dumps(specs[p.model][0]), json.dumps(specs[p.model][1]),
                 p.init_seed, p.data_seed, p.split_seed) for p in plans]
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "INSERT OR IGNORE INTO runs (model, run_index, spec, recipe, init_seed, data_seed, split_seed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self._db.execute("COMMIT")

    def reclaim_abandoned(self, retry_failed: bool = False) -> list[tuple[str, int]]:
        """Put runs whose owner died (and failed ones if asked) back to pending."""
        self._db.execute("BEGIN IMMEDIATE")
        rows = self._db.execute("SELECT model, run_index, owner FROM runs WHERE status = 'running'").fetchall()
        dead = [(r["model"], r["run_index"]) for r in rows if not owner_alive(r["owner"])]
        self._db.executemany("UPDATE runs SET status = 'pending', owner = NULL WHERE model = ? AND run_index = ?",
                             dead)
        if retry_failed:
            self._db.execute("UPDATE runs SET status = 'pending', owner = NULL WHERE status = 'failed'")
        self._db.execute("COMMIT")
        return dead

    def claim(self, model: str, run_index: int, owner: str) -> bool:
        """Mark a pending run as running for `owner`; False when someone else has it or it is finished."""
        cursor = self._db.execute(
            "UPDATE runs SET status = 'running', owner = ?, attempts = attempts + 1, started = ?, "
            "finished = NULL, error = NULL WHERE model = ? AND run_index = ? AND status = 'pending'",
            (owner, now(), model, run_index))
        return cursor.rowcount == 1

    def record_done(self, model: str, run_index: int, owner: str, **values) -> bool:
        return self._finish(model, run_index, owner, "done", values)

    def record_failed(self, model: str, run_index: int, owner: str, error: str, **values) -> bool:
        return self._finish(model, run_index, owner, "failed", {**values, "error": error})

    def release(self, model: str, run_index: int, owner: str) -> None:
        """Give a claimed run back (it will be run again), e.g. when the sweep is interrupted."""
        self._db.execute("UPDATE runs SET status = 'pending', owner = NULL WHERE model = ? AND run_index = ? "
                         "AND status = 'running' AND owner = ?", (model, run_index, owner))

    def _finish(self, model, run_index, owner, status, values: dict) -> bool:
        columns = {k: json.dumps(v) if k in _JSON_COLUMNS and v is not None else v for k, v in values.items()}
        columns.update(status=status, finished=now())
        assignments = ", ".join(f"{k} = ?" for k in columns)
        cursor = self._db.execute(
            f"UPDATE runs SET {assignments} WHERE model = ? AND run_index = ? AND status = 'running' AND owner = ?",
            (*columns.values(), model, run_index, owner))
        return cursor.rowcount == 1

    def runs(self, status: str | None = None) -> list[RunRecord]:
        query, args = "SELECT * FROM runs", ()
        if status:
            query, args = query + " WHERE status = ?", (status,)
        records = []
        for row in self._db.execute(query + " ORDER BY run_index, rowid", args):
            values = {k: (json.loads(row[k]) if k in _JSON_COLUMNS and row[k] is not None else row[k])
                      for k in row.keys()}
            records.append(RunRecord(**values))
        return records

    def counts(self) -> dict[str, int]:
        found = dict(self._db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
        return {s: int(found.get(s, 0)) for s in STATUSES}

    # -------------------------------------------------------------- baselines
    def baselines(self) -> dict[str, dict]:
        rows = self._db.execute("SELECT data_key, result FROM baselines ORDER BY split_seed").fetchall()
        return {r["data_key"]: json.loads(r["result"]) for r in rows}

    def save_baseline(self, data_key: str, split_seed: int, result: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO baselines (data_key, split_seed, result, created) VALUES (?, ?, ?, ?)",
                         (data_key, split_seed, json.dumps(result), now()))
