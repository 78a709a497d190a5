"""The `rnnlab` command: a thin shell over functions users can import, one module per command group.

Errors caused by input (`RnnlabError`) print one clear line and exit with status 2, whichever
command raised them (:func:`one_line_errors` wraps every command); so do usage errors (an
unknown option, a value out of range: :class:`OneLineGroup`). Ctrl-C exits 130 with a line
saying what was kept. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import functools
import sys

import typer
from rich.markup import escape
from typer.core import TyperGroup

try:  # recent Typer carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from rnnlab import _backend, _interrupt  # noqa: F401  (_backend before keras)
from rnnlab.cli import (
    bundles,
    data,
    embeddings,
    experiment,
    models,
    reproduce,
    train,
    tune,
)
from rnnlab.cli.output import err, json_output
from rnnlab.errors import RnnlabError

INTERRUPTED = 130  # the shell's status for a process ended by Ctrl-C (128 + SIGINT)


class OneLineGroup(TyperGroup):
    """The root command: usage errors in one line (what is wrong, where to read the options).

    Typer draws a usage error as a multi-line panel; a script's log, like a person, reads one
    line better. `standalone_mode=False` lets the errors reach here instead of Typer's printer.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        _interrupt.install()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # `rnnlab data`: the group's help
            print(exc.ctx.get_help())
            sys.exit(2)
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "rnnlab"
            message = exc.format_message().replace("\n", " ").strip()
            message += "" if message.endswith((".", "?", "!")) else "."
            err.print(f"[bold red]error:[/] {message} See '{where} --help'.", highlight=False, soft_wrap=True,
                      markup=True)
            sys.exit(2)
        except (typer.Abort, KeyboardInterrupt):
            code = INTERRUPTED
        except ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        if code == INTERRUPTED:  # Ctrl-C (Typer turns it into exit status 130)
            # Every file rnnlab writes is staged and renamed into place, so none is half-written.
            err.print("interrupted: nothing half-written was kept; rerun the same command to start again "
                      "(experiments resume where they stopped).", highlight=False, soft_wrap=True)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(cls=OneLineGroup, help="Build, train, compare and ship recurrent text classifiers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
for group in (models, train, bundles, tune):
    app.registered_commands += group.app.registered_commands
app.add_typer(reproduce.app, name="reproduce")
app.add_typer(data.app, name="data")
app.add_typer(embeddings.app, name="embeddings")
app.add_typer(experiment.experiment_app, name="experiment")


# Disk full, quota, read-only file system: the machine's state, not a bug of rnnlab.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def _advice(exc: OSError) -> str:
    if exc.errno in _ENVIRONMENT_ERRNOS:
        return "Free some space (or choose another folder) and rerun; files already saved were left as they were."
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "A file is in the way of a folder rnnlab writes: choose another --out path or move the file."
    if isinstance(exc, PermissionError):
        return "Choose a path you may write to, or change its permissions."
    return "Check the path and rerun."


def one_line_errors(callback):
    """The one error handler: a `RnnlabError` from any command prints one line and exits 2."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except RnnlabError as exc:
            # Escaped: messages name config tables like [data], which rich would take for markup.
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except OSError as exc:
            if exc.filename is None and exc.errno not in _ENVIRONMENT_ERRNOS:
                raise  # not about a path the user gave: a bug, keep the traceback
            where = f" {exc.filename}" if exc.filename is not None else ""
            err.print(f"[bold red]error:[/]{escape(where)}: {exc.strerror or exc}. {_advice(exc)}", highlight=False,
                      soft_wrap=True)
            raise typer.Exit(2) from None
    return run


def _handle_errors(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        command.callback = one_line_errors(json_output(command.callback))
    for group in typer_app.registered_groups:
        _handle_errors(group.typer_instance)


_handle_errors(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
