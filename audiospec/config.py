"""Typed configuration: frozen dataclasses built from plain dicts / YAML, unknown keys rejected.

Every run saves its resolved config (all defaults filled in) beside its outputs, so
a result can always be traced to the exact settings that produced it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from audiospec.atomic import atomic_write_text
from audiospec.errors import AudiospecError

__all__ = ["config_from_dict", "config_to_dict", "load_config", "read_yaml", "save_config"]

C = TypeVar("C")


def _dataclass_type(annotation: Any) -> type | None:
    """The dataclass inside ``annotation`` (``Cfg`` or ``Cfg | None``), else None."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if dataclasses.is_dataclass(a)]
        return inner[0] if len(inner) == 1 else None
    return None


def config_from_dict(cls: type[C], data: dict[str, Any] | None, *, where: str = "config") -> C:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields take nested dicts.

    Unknown keys raise :class:`AudiospecError` listing the valid ones; lists become
    tuples (configs are frozen and hashable); validation in ``__post_init__`` runs as usual.
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
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        nested = _dataclass_type(hints[name])
        if nested is not None and isinstance(value, dict):
            # a config with its own YAML conventions (e.g. TrainConfig's model presets) builds itself
            build = getattr(nested, "from_dict", None)
            value = (build(value, where=f"{where}.{name}") if build is not None
                     else config_from_dict(nested, value, where=f"{where}.{name}"))
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as err:  # e.g. a required field missing
        raise AudiospecError(f"invalid {where}: {err}") from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain-dict form of a (nested) config dataclass, tuples as lists, ready for YAML/JSON."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(config)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping stored in a YAML file; AudiospecError if it is missing, invalid or not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise AudiospecError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
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


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML, atomically."""
    atomic_write_text(Path(path), yaml.safe_dump(config_to_dict(config), sort_keys=False))
