"""Typed configuration sections: one frozen dataclass per TOML table.

Each field carries its default, its documentation line and its constraints
(bounds, ``Literal`` choices, URL-ness) where it is declared; ``load_section``
checks a TOML table against the class and ``toml_section`` writes the commented
table ``newsletter init`` produces, so code and documentation cannot drift.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from newsletter.errors import ConfigError

T = TypeVar("T")
_CONTROL = {chr(c) for c in range(32) if c != 9} | {"\x7f"}


def setting(default: Any, doc: str = "", *, ge: float | None = None, gt: float | None = None,
            le: float | None = None, url: bool = False, nonempty: bool = False, key: str = "") -> Any:
    """A config field: its default, one line of documentation, its constraints.
    ``key`` is the TOML name where it cannot be the Python one (``from``)."""
    meta = {"doc": doc, "ge": ge, "gt": gt, "le": le, "url": url, "nonempty": nonempty, "key": key}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_name(t: Any) -> str:
    origin = get_origin(t)
    if origin is Literal:
        return " or ".join(f'"{a}"' for a in get_args(t))
    if origin is list:
        return "a list of strings"
    if origin is dict:
        return "a table of numbers"
    return {str: "a string", bool: "true or false", int: "an integer", float: "a number"}.get(t, str(t))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_list(value: Any, name: str, file: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{name}' in {file} must be a list of strings, not {value!r}")
    for v in value:
        _check_string(v, name, file)
    return list(value)


def _check_weights(value: Any, name: str, file: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"'{name}' in {file} must be a table of numbers, not {value!r}")
    for k, v in value.items():
        if not _is_number(v) or not math.isfinite(v) or v < 0:
            raise ConfigError(f"'{name}.{k}' in {file} must be a number >= 0, not {v!r}")
    return {str(k): float(v) for k, v in value.items()}


def _check_scalar(value: Any, t: type, name: str, file: str) -> Any:
    """A bool, int, float or str setting, checked strictly (true is no number)."""
    checks: dict[type, Callable[[Any], bool]] = {
        bool: lambda v: isinstance(v, bool), int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: _is_number, str: lambda v: isinstance(v, str)}
    ok = checks.get(t)
    if ok is None:
        raise TypeError(f"unsupported config type {t!r}")  # a programming error
    if not ok(value):
        raise ConfigError(f"'{name}' in {file} must be {_type_name(t)}, not {value!r}")
    if t is float:
        if not math.isfinite(value):
            raise ConfigError(f"'{name}' in {file} must be a finite number, not {value!r}")
        return float(value)
    if t is str:
        _check_string(value, name, file)
    return value


def _check_value(value: Any, t: Any, name: str, file: str) -> Any:
    origin = get_origin(t)
    if origin is Literal:
        if value not in get_args(t):
            raise ConfigError(f"'{name}' in {file} must be {_type_name(t)}, not {value!r}")
        return value
    if origin is list:
        return _check_list(value, name, file)
    if origin is dict:
        return _check_weights(value, name, file)
    return _check_scalar(value, t, name, file)


def _check_string(value: str, name: str, file: str) -> None:
    if any(c in _CONTROL for c in value):
        what = "a line break" if ("\n" in value or "\r" in value) else "a control character"
        raise ConfigError(f"'{name}' in {file} contains {what}; config values (and the headers they "
                          "end up in) cannot")


def _check_bounds(value: Any, meta: Mapping[str, Any], name: str, file: str) -> None:
    if meta.get("url") and value and not str(value).startswith(("http://", "https://")):
        raise ConfigError(f"'{name}' in {file} must be an http(s) URL, not {value!r}")
    if meta.get("nonempty") and not value:
        raise ConfigError(f"'{name}' in {file} must not be empty")
    if not _is_number(value):
        return
    bounds: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
        ("ge", lambda v, b: v >= b, "at least"), ("gt", lambda v, b: v > b, "more than"),
        ("le", lambda v, b: v <= b, "at most"))
    for key, within, words in bounds:
        bound = meta.get(key)
        if bound is not None and not within(value, bound):
            raise ConfigError(f"'{name}' in {file} must be {words} {bound:g}, not {value!r}")


def hints(cls: type) -> dict[str, Any]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, vars(module))


def is_section(t: Any) -> bool:
    return isinstance(t, type) and dataclasses.is_dataclass(t)


def load_section(cls: type[T], data: Any, where: str, file: str, extra: Mapping[str, type] | None = None) -> T:
    """An instance of ``cls`` from a TOML table, every key and value checked.
    ``extra`` adds sub-tables not declared on the class (the sources)."""
    if not isinstance(data, dict):
        raise ConfigError(f"'{where}' in {file} must be a table ([{where}])")
    th = hints(cls)
    fields = {f.metadata.get("key") or f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    known = set(fields) | set(extra or {})
    prefix = f"{where}." if where else ""
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown key '{prefix}{key}' in {file} (known here: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        t = th[f.name]
        full = f"{prefix}{name}"
        if is_section(t):
            values[f.name] = load_section(t, data.get(name, {}), full, file)
            continue
        if name not in data:
            continue
        value = _check_value(data[name], t, full, file)
        _check_bounds(value, f.metadata, full, file)
        values[f.name] = value
    obj = cls(**values)
    if extra:
        tables: dict[str, Any] = {name: load_section(sub, data.get(name, {}), f"{prefix}{name}", file)
                  for name, sub in extra.items()}
        object.__setattr__(obj, "tables", tables)  # the one field not read from a TOML key
    return obj


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "'" not in value and '"' in value:
            return f"'{value}'"
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def toml_section(cls: type, name: str, doc: str = "") -> str:
    """The commented TOML table of a section's defaults (and its sub-tables)."""
    lines = [f"[{name}]" + (f"   # {doc}" if doc else "")]
    subs: list[str] = []
    defaults = cls()
    th = hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        t = th[f.name]
        value = getattr(defaults, f.name)
        if is_section(t):
            subs.append(toml_section(t, f"{name}.{f.name}", section_doc(t)))
            continue
        if isinstance(value, dict):
            table = [f"[{name}.{f.name}]" + (f"   # {f.metadata.get('doc')}" if f.metadata.get("doc") else "")]
            table += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
            subs.append("\n".join(table))
            continue
        line = f"{f.metadata.get('key') or f.name} = {_toml_value(value)}"
        doc_line = f.metadata.get("doc", "")
        choices = get_args(t) if get_origin(t) is Literal else ()
        if choices and "|" not in doc_line:
            doc_line = (" | ".join(choices) + (f": {doc_line}" if doc_line else ""))
        lines.append(f"{line:<40} # {doc_line}" if doc_line else line)
    return "\n\n".join(["\n".join(lines)] + subs)


def section_doc(cls: type) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


