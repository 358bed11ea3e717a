"""Provides models shared by several backends."""

from __future__ import annotations

import msgspec


class Frozen(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the backend models: immutable, unknown keys ignored (backends add fields)."""


class BuildInfo(Frozen, frozen=True, kw_only=True):
    """`status/buildinfo` of Prometheus, Loki, Tempo and Pyroscope."""

    version: str
    revision: str = ""
    branch: str = ""
    goVersion: str = ""


def buildinfo_body(body: object) -> object:
    """The buildinfo object, bare (Loki, Tempo) or in the Prometheus envelope (Prometheus, Pyroscope)."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "version" not in body:
        return body["data"]
    return body
