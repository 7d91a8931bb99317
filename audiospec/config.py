"""Typed configuration: frozen dataclasses built from plain dicts / YAML, unknown keys rejected.

Every run saves its resolved config (all defaults filled in) beside its outputs, so
a result can always be traced to the exact settings that produced it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from audiospec.atomic import atomic_write_text
from audiospec.errors import AudiospecError

__all__ = ["check_counts", "choices", "config_from_dict", "config_to_dict", "load_config", "read_yaml", "save_config"]

C = TypeVar("C")


def _describe(hint: Any) -> str:
    """A readable name of a type hint for error messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    if origin is dict:
        return "a mapping"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", Path: "a path"}
    if hint in names:
        return names[hint]
    if dataclasses.is_dataclass(hint):
        hook = " or a name" if hasattr(hint, "from_dict") else ""
        return f"a mapping of {hint.__name__} settings{hook}"
    return getattr(hint, "__name__", str(hint))


def _wrong(value: Any, hint: Any, where: str) -> AudiospecError:
    fix = ""
    if isinstance(value, str) and hint is float:
        try:
            float(value)
            fix = f" (YAML reads {value!r} as text: write it with a decimal point and a signed exponent, e.g. 1.0e-3)"
        except ValueError:
            pass
    return AudiospecError(f"{where} must be {_describe(hint)}, got {value!r}{fix}")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the type hint ``hint`` (lists become tuples, ints become floats).

    Handles Literal, unions (Optional), tuples (fixed or ``...``), bool / int / float / str /
    Path and nested config dataclasses; any other hint passes the value through.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin is typing.Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
        raise _wrong(value, hint, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arm in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arm, where)
            except AudiospecError:
                continue
        raise _wrong(value, hint, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _wrong(value, hint, where)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if args and len(value) != len(args):
            raise _wrong(value, hint, where)
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))) if args else tuple(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise _wrong(value, hint, where)
        key_hint, value_hint = args if args else (Any, Any)
        return {_key(key, key_hint, where): _coerce(v, value_hint, f"{where}.{key}") for key, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        build = getattr(hint, "from_dict", None)  # a config with its own YAML conventions builds itself
        if build is not None:
            return build(value, where=where)
        if isinstance(value, dict):
            return config_from_dict(hint, value, where=where)
        raise _wrong(value, hint, where)
    accepts = _SCALARS.get(hint)
    if accepts is None:
        return value
    if not isinstance(value, accepts[0]) or (hint in (int, float) and isinstance(value, bool)):
        raise _wrong(value, hint, where)
    if hint is float and not math.isfinite(value):  # .nan / .inf in YAML: no setting means "not a number"
        raise AudiospecError(f"{where} must be a finite number, got {value!r}; write a number (null where the "
                             "setting allows none)")
    return accepts[1](value)


def _key(key: Any, hint: Any, where: str) -> Any:
    """A mapping's key: an integer key may arrive as its decimal string (JSON keys are strings)."""
    if hint is int and isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            raise AudiospecError(f"{where} must be keyed by integers, got the key {key!r}") from None
    return key


# hint -> (accepted Python types, conversion); bool is an int in Python but never a number here
_SCALARS: dict[Any, tuple[tuple[type, ...], Any]] = {
    bool: ((bool,), bool), int: ((int,), int), float: ((int, float), float), str: ((str,), str),
    Path: ((str, Path), Path),
}


_DEFAULT_WHERE = "config"


def config_from_dict(cls: type[C], data: dict[str, Any] | None, *, where: str = _DEFAULT_WHERE) -> C:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields take nested dicts.

    Every value is checked against its field's type hint before the dataclass is built
    (``Literal`` choices, numbers, lists, nested configs), so a wrong type or an unknown
    choice is an :class:`AudiospecError` naming the key, the value and what is allowed.
    Unknown keys raise :class:`AudiospecError` listing the valid ones; numbers must be finite;
    lists become tuples (configs are frozen and hashable); validation in ``__post_init__`` runs
    as usual, its message prefixed with ``where`` (the file and section) unless that is the default.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AudiospecError(f"{where} must be a mapping of settings, got {type(data).__name__}: {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise AudiospecError(f"unknown key(s) {unknown} in {where}; valid keys are {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:  # e.g. a required field missing
        raise AudiospecError(f"invalid {where}: {err}") from None
    except AudiospecError as err:  # a check of __post_init__: say where the settings came from
        if where == _DEFAULT_WHERE:
            raise
        raise AudiospecError(f"{where}: {err}") from None


def check_counts(section: str, *, minimum: int = 1, **counts: int | tuple[int, ...]) -> None:
    """AudiospecError naming ``section.key`` unless each count (or each item of a list of counts) is an integer
    >= ``minimum``; for the ``__post_init__`` of configs (a negative bootstrap size would silently give no
    interval)."""
    for key, value in counts.items():
        items = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and not value or any(
                isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in items):
            shown = list(value) if isinstance(value, tuple) else value
            what = "a non-empty list of integers" if isinstance(value, tuple) else "an integer"
            raise AudiospecError(f"{section}.{key} must be {what} >= {minimum}, got {shown!r}")


def choices(hint: Any) -> tuple[str, ...]:
    """The names a ``Literal`` hint allows (for CLI choices and messages), via ``typing.get_args``."""
    if typing.get_origin(hint) is not typing.Literal:
        raise TypeError(f"choices() needs a Literal hint, got {hint!r}")
    return tuple(str(a) for a in typing.get_args(hint))


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain-dict form of a (nested) config dataclass, tuples as lists, ready for YAML/JSON."""

    def plain(value: Any) -> Any:
        if hasattr(value, "to_config"):  # a config with its own YAML form (e.g. a prior by name)
            return value.to_config()
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {key: plain(v) for key, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(config)


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key written twice in one mapping (plain YAML keeps the last one)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is written twice (lines {seen[key]} and {line}); keep one of them "
                "(YAML would silently use the last)", key_node.start_mark)
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping stored in a YAML file; AudiospecError if it is missing, unreadable, invalid (a key written twice
    included), not a mapping, or changed since it was written with a checksum (:func:`save_config`)."""
    path = Path(path)
    if path.is_dir():
        raise AudiospecError(f"config {str(path)!r} is a folder; pass a YAML file such as recipes/mini/conf/cpu.yaml")
    if not path.is_file():
        raise AudiospecError(f"config file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise AudiospecError(f"config file {str(path)!r} is not UTF-8 text ({err.reason} at byte {err.start}); "
                             "save it as UTF-8 YAML") from None
    except OSError as err:
        raise AudiospecError(f"cannot read config file {str(path)!r}: {err}") from None
    _check_checksum(text, path)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise AudiospecError(f"config file {str(path)!r} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise AudiospecError(f"config file {str(path)!r} must hold a mapping of settings, got {type(data).__name__}")
    return data


def load_config(cls: type[C], path: str | Path, *, section: str | None = None) -> C:
    """Read ``cls`` from a YAML file (optionally from one top-level ``section``)."""
    data = read_yaml(path)
    if section is not None:
        data = data.get(section, {})
    return config_from_dict(cls, data, where=f"{path}" + (f":{section}" if section else ""))


_CHECKSUM = re.compile(r"# sha256 ([0-9a-f]{64}) of the lines below\n")


def _check_checksum(text: str, path: Path) -> None:
    """A YAML file written with ``checksum=True`` must still hold what was written (its first line says what)."""
    match = _CHECKSUM.match(text)
    if match and hashlib.sha256(text[match.end():].encode("utf-8")).hexdigest() != match.group(1):
        raise AudiospecError(f"{str(path)!r} was changed after audiospec wrote it (its content no longer matches "
                             "the sha256 on its first line); restore it (re-run the command that wrote it), or "
                             "delete that first line to accept the edit")


def save_config(config: Any, path: str | Path, *, checksum: bool = False) -> None:
    """Write the resolved config as YAML, atomically; with ``checksum`` the first line is a comment holding the
    sha256 of the rest, which :func:`read_yaml` verifies (for files a later command trusts, e.g. ``run.yaml``)."""
    text = yaml.safe_dump(config_to_dict(config), sort_keys=False)
    if checksum:
        text = f"# sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()} of the lines below\n" + text
    atomic_write_text(Path(path), text)
