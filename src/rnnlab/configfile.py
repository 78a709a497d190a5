"""The one config loader: JSON or TOML files (or committed configs by name), read strictly.

Every config rnnlab reads (spec files, training configs, sweeps, recipes, searches) comes
through :func:`read_config`, and every table of one is checked by :func:`check_keys`: an
unknown key is an error that names it and lists the valid ones, never silently ignored.
The configs committed with rnnlab ship inside the package (``rnnlab/configs``) and are found
by name: ``rnnlab experiment run imdb-best-cpu``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import tomllib
from pathlib import Path

from rnnlab.errors import InvalidInputError

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SUFFIXES = (".toml", ".json")

__all__ = ["CONFIG_DIR", "check_keys", "find_config", "from_fields", "named_configs", "read_config", "to_toml"]


def named_configs() -> list[str]:
    """Names of the committed configs (``beyond/digits-stacked-lstm`` for a file in a subfolder)."""
    return sorted(str(p.relative_to(CONFIG_DIR).with_suffix("")) for p in CONFIG_DIR.rglob("*")
                  if p.suffix in SUFFIXES)


def find_config(name_or_path: str | Path) -> Path:
    """An existing config file: the path itself, else a committed config of that name."""
    try:
        path = Path(name_or_path).expanduser()
    except (RuntimeError, ValueError):  # "~someone" of an unknown user (or with a NUL): not a file
        path = Path(name_or_path)
    if _is_file(path):
        return path
    name = str(name_or_path)
    for candidate in (CONFIG_DIR / name, *(CONFIG_DIR / f"{name}{s}" for s in SUFFIXES)):
        if _is_file(candidate) and candidate.suffix in SUFFIXES:
            return candidate
    if path.suffix in SUFFIXES and _is_file(CONFIG_DIR / path.name):
        return CONFIG_DIR / path.name  # "configs/x.toml" from another working directory
    known = named_configs()
    close = difflib.get_close_matches(path.stem, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InvalidInputError(f"Config {name!r} is neither a file nor a committed config.{hint} "
                            f"Committed configs: {', '.join(known)}.")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name the file system refuses (too long, say) names no file
        return False


def read_config(name_or_path: str | Path, what: str = "Config") -> dict:
    """The fields of a ``.json`` or ``.toml`` config, with ``name`` defaulting to the file's stem."""
    path = find_config(name_or_path)
    if path.suffix not in SUFFIXES:
        raise InvalidInputError(f"{what} must be a .json or .toml file, got {path.name!r}.")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it "
                                "as UTF-8.") from None
    except OSError as exc:
        raise InvalidInputError(f"{what} {path} cannot be read: {exc.strerror or exc}.") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, RecursionError) as exc:  # syntax errors, a 5,000-digit number, nesting too deep
        raise InvalidInputError(f"{what} {path} is not valid {path.suffix[1:].upper()}: {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what} {path} must hold an object of config fields, got {type(data).__name__}.")
    data.setdefault("name", path.stem)
    return data


def check_keys(where: str, data, known) -> dict:
    """``data`` as a dict, after refusing any key not in ``known`` (the message names both)."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where} must be a table of settings, got {type(data).__name__}.")
    _refuse_unknown(f"key(s) in {where}", data, known)
    return dict(data)


def from_fields(cls, data, what: str | None = None):
    """``cls(**data)`` for a dataclass, refusing keys that are not its fields (the message lists them)."""
    what = what or cls.__name__
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what} must be an object of fields, got {type(data).__name__}.")
    _refuse_unknown(f"{what} field(s)", data, [f.name for f in dataclasses.fields(cls)])
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise InvalidInputError(f"{what} needs the field(s) {', '.join(missing)}; add them.")
    return cls(**data)


def _refuse_unknown(what: str, data: dict, known) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        close = {u: difflib.get_close_matches(u, list(known), n=1) for u in unknown}
        hints = "".join(f" ({u!r}: did you mean {c[0]!r}?)" for u, c in close.items() if c)
        raise InvalidInputError(f"Unknown {what}: {', '.join(unknown)}.{hints} Valid: {', '.join(sorted(known))}.")


def to_toml(data: dict) -> str:
    """``data`` as TOML that :func:`read_config` reads back to the same values.

    Scalars, lists of scalars and nested tables (written as ``[a.b]`` sections); None values
    are left out, as TOML has no null.
    """
    lines: list[str] = []
    _toml_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _toml_table(table: dict, path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if v is not None and not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    for key, value in scalars.items():
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables.items():
        _toml_table(value, [*path, key], lines)


def _toml_key(key) -> str:
    key = str(key)
    return key if key and all(c.isalnum() or c in "-_" for c in key) else json.dumps(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "nan" if value != value else "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise InvalidInputError(f"Cannot write {type(value).__name__} {value!r} to a TOML config.")
