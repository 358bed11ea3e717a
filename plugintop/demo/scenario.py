"""Provides the scenario model (DESIGN §5): validated TOML with one-line errors naming the key."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plugintop.errors import ConfigError, UsageError
from plugintop.timerange import parse_duration


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _duration(v: str) -> str:
    try:
        parse_duration(v.lstrip("-+"))
    except UsageError as e:
        raise ValueError(str(e)) from None
    return v


class Tool(_Model):
    """One tool of the plugin and its healthy behaviour."""

    name: str = Field(min_length=1)
    calls_per_min: float = Field(default=60, gt=0, le=6000)
    """Per tenant."""
    median_ms: float = Field(default=180, gt=0)
    llm_model: str = "gpt-4o-mini"
    llm_share: float = Field(default=0.5, ge=0, lt=1)
    """Fraction of the call spent in the model-call child span."""
    error_ratio: float = Field(default=0.001, ge=0, le=1)
    functions: list[str] = Field(default=["handle"], min_length=1)
    """CPU frames (and the plugin-code child spans)."""
    downstream: list[str] = []
    """Child spans for downstream calls."""


class Incident(_Model):
    """A stretch of time where one tool misbehaves for one tenant (or `*`, every tenant)."""

    tenant: str
    tool: str
    start: str
    """Relative to now: `-45m`."""
    duration: str
    cause: Literal["llm", "cpu", "downstream", "errors"]
    factor: float = Field(gt=0)
    """Latency multiplier; for `errors`, the error ratio."""
    function: str | None = None
    span: str | None = None

    _v_start = field_validator("start")(_duration)
    _v_duration = field_validator("duration")(_duration)

    def window(self, now: float) -> tuple[float, float]:
        """(start, end) in epoch seconds for a given "now"."""
        offset = parse_duration(self.start.lstrip("-+")) * (-1 if self.start.startswith("-") else 1)
        start = now + offset
        return start, start + parse_duration(self.duration)


class Scenario(_Model):
    """A whole demo: the plugin, its tenants and tools, and the incidents."""

    plugin: str = Field(min_length=1)
    version: str = "1.0.0"
    seed: int = 7
    history: str = "6h"
    tenants: list[str] = Field(min_length=1)
    p99_target: str | None = "2s"
    tools: list[Tool] = Field(min_length=1)
    incidents: list[Incident] = []

    _v_history = field_validator("history")(_duration)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        tools = {t.name: t for t in self.tools}
        if len(tools) != len(self.tools):
            raise ValueError("tools: two tools share a name")
        if len(set(self.tenants)) != len(self.tenants):
            raise ValueError("tenants: a tenant is listed twice")
        for i, inc in enumerate(self.incidents):
            if inc.tool not in tools:
                raise ValueError(f"incidents.{i}.tool: no tool named {inc.tool!r}")
            if inc.tenant != "*" and inc.tenant not in self.tenants:
                raise ValueError(f"incidents.{i}.tenant: {inc.tenant!r} is not in tenants")
            if inc.cause == "cpu" and inc.function not in tools[inc.tool].functions:
                raise ValueError(f"incidents.{i}.function: cause cpu needs one of the tool's functions")
            if inc.cause == "downstream" and inc.span not in tools[inc.tool].downstream:
                raise ValueError(f"incidents.{i}.span: cause downstream needs one of the tool's downstream spans")
            if inc.cause == "errors" and inc.factor > 1:
                raise ValueError(f"incidents.{i}.factor: for errors the factor is the error ratio (0-1)")
        return self

    @property
    def history_s(self) -> float:
        return parse_duration(self.history)

    def tool(self, name: str) -> Tool:
        return next(t for t in self.tools if t.name == name)


def load_scenario(path: str | None) -> Scenario:
    """The scenario in `path`, or the built-in one.

    Raises:
        ConfigError: one line naming the file, the key and what is wrong.
    """
    if path is None:
        text = resources.files("plugintop.demo").joinpath("builtin.toml").read_text(encoding="utf-8")
        where = "built-in scenario"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"scenario error: {path}: cannot read ({e.strerror})") from None
        where = path
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"scenario error: {where}: not valid TOML: {e}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"scenario error: {where}: {key}: {msg}") from None
