"""Provides models shared by several backends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of the backend models: immutable, unknown keys ignored (backends add fields)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class BuildInfo(Frozen):
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
