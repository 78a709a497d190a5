"""The `rnnlab` command: a thin shell over functions users can import, one module per command group.

Errors caused by input (`RnnlabError`) print one clear line and exit with status 2, whichever
command raised them (:func:`one_line_errors` wraps every command); anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools

import typer

from rnnlab import _backend  # noqa: F401  (before keras)
from rnnlab.cli import bundles, data, embeddings, experiment, models, reproduce, train
from rnnlab.cli.output import err
from rnnlab.errors import RnnlabError

app = typer.Typer(help="Build, train, compare and ship recurrent text classifiers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
for group in (models, train, bundles):
    app.registered_commands += group.app.registered_commands
app.add_typer(reproduce.app, name="reproduce")
app.add_typer(data.app, name="data")
app.add_typer(embeddings.app, name="embeddings")
app.add_typer(experiment.experiment_app, name="experiment")


def one_line_errors(callback):
    """The one error handler: a `RnnlabError` from any command prints one line and exits 2."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except RnnlabError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    return run


def _handle_errors(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        command.callback = one_line_errors(command.callback)
    for group in typer_app.registered_groups:
        _handle_errors(group.typer_instance)


_handle_errors(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
