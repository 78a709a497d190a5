"""docs/tutorial.ipynb runs from top to bottom (on a small subset, through its parameters cell)."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_tutorial_notebook_runs_on_a_subset(imdb_archive, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1, "the notebook needs one cell tagged 'parameters'"
    parameters[0].source = (f'LIMIT = 300\nEPOCHS = 1\nMODELS = ["lstm"]\nOWN_CSV_ROWS = 400\n'
                            f'AUTO_EPOCHS = 1\nOUT = {str(tmp_path / "runs")!r}\n')
    client = nbclient.NotebookClient(notebook, timeout=500, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # lengths, curves, token scores
    text = "".join(o.get("text", "") for o in outputs)
    assert "test accuracy" in text and "nbsvm" in text
    # `train auto` keeps the recurrent model (a plain bundle), or the n-gram model or a blend (a stack bundle).
    assert any((tmp_path / "runs" / "auto" / name).is_file() for name in ("model.keras", "stack.json"))
