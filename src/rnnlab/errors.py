"""User-facing errors: each message says what is wrong and what to do about it.

The CLI prints these without a traceback; anything else is a bug and keeps its traceback.
"""


class RnnlabError(Exception):
    """Base class for errors caused by input or environment, not by rnnlab itself."""


class DataNotFoundError(RnnlabError, FileNotFoundError):
    """A dataset file could not be found locally and could not be downloaded."""


class DataFormatError(RnnlabError, ValueError):
    """A data file exists but its content is not what the loader expects."""


class ChecksumError(RnnlabError):
    """A downloaded file does not match its published sha256."""


class UnknownNameError(RnnlabError, KeyError):
    """A model, dataset or option name is not known; the message suggests close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidInputError(RnnlabError, ValueError):
    """Text or arguments passed to rnnlab cannot be used (empty text, bad sizes...)."""


def unknown_name(kind: str, name: str, choices) -> UnknownNameError:
    """Build an UnknownNameError with a "did you mean" hint."""
    import difflib

    choices = sorted(choices)
    # A config can hold any JSON value where a name belongs: only a string has close matches.
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5) if isinstance(name, str) else []
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(
        f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(choices)}."
    )
