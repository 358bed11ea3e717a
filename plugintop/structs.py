"""Provides validation of plain data (TOML, flags, code) into `msgspec` structs, with the first mistake
as one line naming its dotted key (`contexts.prod.prometheus.url: must start with http://`).

The configuration and the demo's scenario are `msgspec.Struct`s: a struct class is made in C, so the
models cost well under a millisecond to define where pydantic's import and schema building cost ~50 ms
on the path to `report`'s first request (measured, README "Performance"). A struct checks its fields'
relations in `__post_init__` and raises `Invalid` there, which names the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_MARK = "\x1f"  # separates the field's name from the message inside msgspec's error text


class Invalid(ValueError):
    """Raised by a struct's `__post_init__`: `field` (dotted, relative to the struct) is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{_MARK}{field}{_MARK}{message}")


class InvalidValue(ValueError):
    """The first mistake in converted data: `key` is its dotted place, `message` what is wrong."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class Secret:
    """A secret string: printed as stars; `get_secret_value()` gives it to the code that sends it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    raise TypeError(f"Expected `str`, got `{type(value).__name__}`")


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(type(value).__name__)


_AT = re.compile(r"(?P<msg>.*?)(?: - at `\$(?P<loc>[^`]*)`)?", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")  # `.key` or `[3]`; a dict's `[...]` names no key
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]*)`")


def convert(data: Any, kind: type[T], where: str = "") -> T:
    """`data` validated into `kind` (paths and secrets from strings).

    Raises:
        InvalidValue: the first mistake, its key dotted from `where`; list items by index.
    """
    try:
        return msgspec.convert(data, kind, dec_hook=_dec_hook)
    except msgspec.ValidationError as e:
        m = _AT.fullmatch(str(e))
        assert m is not None  # the pattern matches any text
        msg = m["msg"]
        parts = [where] if where else []
        parts += [a or b for a, b in _STEP.findall(m["loc"] or "")]
        if _MARK in msg:
            _, field, msg = msg.split(_MARK, 2)
            parts.append(field)
        elif u := _UNKNOWN.fullmatch(msg):
            parts.append(u["key"])
            msg = "unknown key"
        raise InvalidValue(".".join(parts) or "(top level)", msg) from None


def to_plain(value: Any) -> Any:
    """A struct as plain data `convert` takes back (field names as written in files; secrets revealed)."""
    return msgspec.to_builtins(value, enc_hook=_enc_hook)
