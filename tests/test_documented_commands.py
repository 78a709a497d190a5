"""Every `rnnlab ...` command line in README.md and docs/ runs as written.

A command line is a line starting with ``rnnlab `` (or ``time rnnlab ``) inside a ```bash,
```sh, ```shell or ```console block, or a ``$ rnnlab`` line anywhere. Each one is parsed by
the real command (click's ``make_context``: every option resolved and converted, nothing
run), and the models and committed configs it names must exist. A curated few also run for
real at toy scale (below, with the options appended to keep them quick); serving and
clusters (``serve``, ``--address``, Ray workers) are only parsed.

Placeholders are the docs' own file names: ``reviews.csv``, ``new-reviews.csv`` and
``more-reviews.csv`` are written as real review files in a temporary working folder, and
``runs/lstm`` (a textbook bundle trained on IMDB) becomes ``runs/mine``, the small bundle
``train auto`` saved there.
"""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup
from reviewfiles import write_reviews_csv
from typer.testing import CliRunner

from rnnlab.cli import app

try:  # recent Typer carries its own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException

ROOT = Path(__file__).resolve().parents[1]
SHELL_BLOCKS = ("bash", "sh", "shell", "console")
COMMAND = re.compile(r"^(?:time )?(rnnlab .*)$")


def documented_commands() -> list[tuple[str, str]]:
    """``(where, command)`` for every documented command line; ``where`` is ``file:line``."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        block = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if text.startswith("```"):
                block = None if block is not None else text[3:].strip().lower()
                continue
            if text.startswith("$ rnnlab "):
                command = text[2:]
            elif block in SHELL_BLOCKS and (match := COMMAND.match(text)):
                command = match.group(1)
            else:
                continue
            found.append((f"{path.relative_to(ROOT)}:{number}", command))
    return found


COMMANDS = documented_commands()


def words(command: str) -> list[str]:
    """The command's arguments after ``rnnlab``, as a shell splits them (comments dropped)."""
    return shlex.split(command, comments=True)[1:]


def parse(args: list[str]) -> tuple[object, dict]:
    """Resolve ``rnnlab ARGS`` to its command and parse every option, as running it would, without running it."""
    root = typer.main.get_command(app)
    context = root.context_class(root, info_name="rnnlab")
    command, name = root, "rnnlab"
    while isinstance(command, TyperGroup):
        assert args, f"{context.command_path} needs a subcommand"
        name, args = args[0], args[1:]
        found = command.get_command(context, name)
        assert found is not None, f"{context.command_path} has no command {name!r}"
        command = found
        if isinstance(command, TyperGroup):
            context = command.context_class(command, info_name=name, parent=context)
    with command.make_context(name, list(args), parent=context) as leaf:
        return command, dict(leaf.params)


def test_the_docs_hold_commands():
    assert len(COMMANDS) >= 40, COMMANDS
    assert any("--mlflow" in command for _, command in COMMANDS)


@pytest.mark.parametrize("command", [c for _, c in COMMANDS], ids=[w for w, _ in COMMANDS])
def test_every_documented_command_parses(command):
    try:
        _, params = parse(words(command))
    except ClickException as exc:
        pytest.fail(f"{command!r}: {exc.format_message()}")
    assert params is not None


def test_documented_models_and_configs_exist():
    """Named models (`train NAME`) and committed configs (`experiment run NAME`, `tune NAME`) resolve."""
    from rnnlab.experiments import kinds
    from rnnlab.training.engine import resolve

    checked = 0
    for where, command in COMMANDS:
        args = words(command)
        if args[0] == "train" and args[1] != "auto" and not Path(args[1]).suffix:
            resolve(args[1])
            checked += 1
        elif args[:2] == ["experiment", "run"] or args[0] == "tune":
            name = args[2] if args[0] == "experiment" else args[1]
            if not Path(name).suffix:  # a name; study.toml and the like are the reader's own files
                assert kinds.read(Path(name)), where
                checked += 1
    assert checked >= 10


# Run for real, in this order, in one working folder: the documented line, then what is
# appended to keep it quick.
QUICK = {"--epochs": "1", "--limit": "300"}
RUNS = [
    ("rnnlab train auto --dataset reviews.csv --out runs/mine", QUICK),
    ("rnnlab train auto --dataset reviews.csv --mlflow", QUICK),
    ("rnnlab predict runs/mine --input new-reviews.csv --output predictions.csv", {}),
    ('rnnlab predict runs/mine "What a wonderful film." --input more-reviews.csv --output predictions.csv', {}),
    ('rnnlab explain runs/lstm "Great cast, dull plot." --png why.png', {}),
    ("rnnlab models", {}),
    ("rnnlab weights gru", {}),
]
SUBSTITUTE = {"runs/lstm": "runs/mine"}


@pytest.mark.slow
@pytest.mark.timeout(500)
def test_curated_commands_run_at_toy_scale(amazon_file, tmp_path, monkeypatch):
    documented = {c.split("#")[0].strip() for _, c in COMMANDS}
    monkeypatch.chdir(tmp_path)
    write_reviews_csv(tmp_path / "reviews.csv", amazon_file, rows=300)
    for name in ("new-reviews.csv", "more-reviews.csv"):
        write_reviews_csv(tmp_path / name, amazon_file, rows=20, labels=False)
    for command, extra in RUNS:
        assert command in documented, f"{command!r} is no longer in the docs: update RUNS"
        args = [SUBSTITUTE.get(word, word) for word in words(command)]
        for option, value in extra.items():
            args += [option, value]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, result.output[-3000:], result.exception)
    # `train auto` keeps the recurrent model (a plain bundle), or the n-gram model or a blend (a stack bundle).
    assert (tmp_path / "runs/mine/model.keras").exists() or (tmp_path / "runs/mine/stack.json").exists()
    assert (tmp_path / "mlruns").is_dir()  # --mlflow alone logs to ./mlruns
    with open(tmp_path / "predictions.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 21  # the text argument, then the file's 20 records
    assert (tmp_path / "why.png").stat().st_size > 0
