"""The strategy file as text: the commented default file ``tillage strategy init`` writes and
the field list of the reference (``docs/strategy.md``), both generated from the models of
:mod:`tillage.strategy.config`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel

from tillage.strategy.config import Strategy


def _toml_key(key: str) -> str:
    """A bare key when it can be one, else a quoted key."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} as TOML")


def _comment(text: str, width: int = 96) -> list[str]:
    words, lines, line = text.split(), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "#"
        line += " " + word
    lines.append(line)
    return lines


def _write_section(model: BaseModel, prefix: str, out: list[str]) -> None:
    fields = type(model).model_fields
    tables: list[tuple[str, Any, str]] = []
    for name, info in fields.items():
        value = getattr(model, name)
        desc = info.description or ""
        if isinstance(value, BaseModel | dict) or (
            isinstance(value, list) and any(isinstance(v, BaseModel) for v in value)
        ):
            tables.append((name, value, desc))
            continue
        out.extend(_comment(desc))
        if value is None:
            out.append(f"# {name} =")
        elif isinstance(value, list):
            out.append(f"{name} = [{', '.join(_toml_value(v) for v in value)}]")
        else:
            out.append(f"{name} = {_toml_value(value)}")
    for name, value, desc in tables:
        key = f"{prefix}{name}"
        out.append("")
        if isinstance(value, BaseModel):
            out.extend(_comment(desc))
            out.append(f"[{key}]")
            _write_section(value, f"{key}.", out)
        elif isinstance(value, dict) and any(isinstance(v, BaseModel) for v in value.values()):
            out.extend(_comment(desc))
            for sub, item in value.items():
                out.append(f"[{key}.{_toml_key(str(sub))}]")
                _write_section(item, f"{key}.{sub}.", out)
                out.append("")
        elif isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            out.extend(_comment(desc))
            for k, v in value.items():
                out.append(f"[{key}.{_toml_key(str(k))}]")
                out.extend(f"{_toml_key(str(kk))} = {_toml_value(vv)}" for kk, vv in v.items())
        elif isinstance(value, dict):
            out.extend(_comment(desc))
            out.append(f"[{key}]")
            out.extend(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        else:
            out.extend(_comment(desc))
            for item in value:
                out.append(f"[[{key}]]")
                _write_section(item, f"{key}.", out)
                out.append("")


def default_strategy_toml() -> str:
    """The default strategy as TOML, each field preceded by its description."""
    return strategy_toml(
        Strategy(),
        "tillage strategy file. Every field is optional; the values below are the defaults.",
    )


def strategy_toml(strategy: Strategy, title: str = "tillage strategy file.") -> str:
    """``strategy`` as TOML (every field written, each preceded by its description), headed by
    the comment ``title``; :func:`~tillage.strategy.config.loads_strategy` reads it back."""
    out = [
        f"# {title}",
        "# Reference: docs/strategy.md. Check a file with `tillage strategy validate PATH`.",
        "",
    ]
    _write_section(strategy, "", out)
    return "\n".join(out).rstrip() + "\n"


def iter_fields(model: type[BaseModel] = Strategy, prefix: str = "") -> list[tuple[str, str]]:
    """Every field of the strategy file as (dotted name, description), sections included."""
    found: list[tuple[str, str]] = []
    for name, info in model.model_fields.items():
        found.append((f"{prefix}{name}", info.description or ""))
        inner = info.annotation
        args = getattr(inner, "__args__", ())
        for candidate in (inner, *args):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found.extend(iter_fields(candidate, f"{prefix}{name}."))
    return found
