"""Same config, same seed: the same weights and the same test accuracy to the last digit.

`reproduce_kinds.py` runs a toy config of every config kind and fingerprints what it saved.
Here it runs in two separate processes, one after the other (each in its own private network
namespace, since searches start Ray); the second trains the sweep's runs as Ray tasks instead of
in its own process, and loads from the run's XLA compilation cache the programs the first one
compiled. A recipe also runs in this test's process. Every fingerprint must match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from raytools import isolated

import reproduce_kinds
from rnnlab.experiments.kinds import KINDS

SCRIPT = Path(reproduce_kinds.__file__)


def _run_elsewhere(out: Path, sweep_workers: int) -> dict:
    result = isolated([sys.executable, str(SCRIPT), str(out), "--sweep-workers", str(sweep_workers)], timeout=480)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_config_kind_gives_the_same_weights_in_another_process_and_as_ray_tasks(tmp_path, imdb_archive,
                                                                                       capsys):
    # One after the other: together they would only share two cores with the rest of the suite.
    first = _run_elsewhere(tmp_path / "a", 1)
    second = _run_elsewhere(tmp_path / "b", 2)
    assert set(first) == {"word2vec", *KINDS}  # a kind added to the registry needs a toy config there
    for kind in first:
        assert first[kind] == second[kind], kind
    # Something was trained and scored (a fingerprint of nothing would match too).
    assert first["recipe"]["weights"]["bundle"] and first["stack"]["test_accuracy"] > 0.6
    assert len(first["sweep"]["runs"]) == 2 and len(first["tune"]["trials"]) == 2
    assert all(run["test_accuracy"] is not None for run in first["sweep"]["runs"].values())

    assert reproduce_kinds.main([str(tmp_path / "here"), "--kinds", "recipe"]) == 0
    here = json.loads(capsys.readouterr().out)
    assert here["word2vec"] == first["word2vec"] and here["recipe"] == first["recipe"]
