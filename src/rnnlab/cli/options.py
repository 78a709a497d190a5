"""Options whose value may be left out: ``--mlflow`` alone means ``--mlflow ./mlruns``.

Typer no longer passes click's ``is_flag=False, flag_value=...`` on to the parser, so an
option declared that way still demands a value. :class:`OptionalValues` supplies it before
parsing, by click's rule: the option ends the line, or the next word is another option.
"""

from __future__ import annotations

from typer.core import TyperCommand

MLFLOW = "--mlflow"
MLFLOW_ALONE = "./mlruns"


def fill_optional_values(args: list[str], defaults: dict[str, str]) -> list[str]:
    """``args`` with each option of ``defaults`` given without a value completed with its default.

    >>> fill_optional_values(["auto", "--mlflow", "--json"], {"--mlflow": "./mlruns"})
    ['auto', '--mlflow=./mlruns', '--json']
    """
    filled = []
    for i, arg in enumerate(args):
        if arg == "--":  # the rest are arguments, even when they look like options
            return filled + list(args[i:])
        following = args[i + 1] if i + 1 < len(args) else None
        alone = following is None or (following.startswith("-") and len(following) > 1)
        filled.append(f"{arg}={defaults[arg]}" if arg in defaults and alone else arg)
    return filled


class OptionalValues(TyperCommand):
    """A command whose options named in ``defaults`` may be given alone, meaning their default."""

    defaults: dict[str, str] = {}

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        return super().parse_args(ctx, fill_optional_values(args, self.defaults))


class MlflowCommand(OptionalValues):
    """A command with ``--mlflow [URI]``: alone, it logs to ./mlruns."""

    defaults = {MLFLOW: MLFLOW_ALONE}
