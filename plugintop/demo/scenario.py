"""Provides the scenario model (DESIGN §5): validated TOML with one-line errors naming the key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from plugintop.errors import ConfigError, UsageError
from plugintop.structs import Invalid, InvalidValue, convert
from plugintop.timerange import parse_duration


class _Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the scenario's parts: immutable, unknown keys refused."""


def _duration(field: str, v: str) -> None:
    try:
        parse_duration(v.lstrip("-+"))
    except UsageError as e:
        raise Invalid(field, str(e)) from None


NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class Tool(_Model, frozen=True, kw_only=True):
    """One tool of the plugin and its healthy behaviour."""

    name: NonEmpty
    calls_per_min: Annotated[float, msgspec.Meta(gt=0, le=6000)] = 60
    """Per tenant."""
    median_ms: Annotated[float, msgspec.Meta(gt=0)] = 180
    llm_model: str = "gpt-4o-mini"
    llm_share: Annotated[float, msgspec.Meta(ge=0, lt=1)] = 0.5
    """Fraction of the call spent in the model-call child span."""
    error_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.001
    functions: Annotated[list[str], msgspec.Meta(min_length=1)] = msgspec.field(default_factory=lambda: ["handle"])
    """CPU frames (and the plugin-code child spans)."""
    downstream: list[str] = []
    """Child spans for downstream calls."""


class Incident(_Model, frozen=True, kw_only=True):
    """A stretch of time where one tool misbehaves for one tenant (or `*`, every tenant)."""

    tenant: str
    tool: str
    start: str
    """Relative to now: `-45m`."""
    duration: str
    cause: Literal["llm", "cpu", "downstream", "errors"]
    factor: Annotated[float, msgspec.Meta(gt=0)]
    """Latency multiplier; for `errors`, the error ratio."""
    function: str | None = None
    span: str | None = None

    def __post_init__(self) -> None:
        _duration("start", self.start)
        _duration("duration", self.duration)

    def window(self, now: float) -> tuple[float, float]:
        """(start, end) in epoch seconds for a given "now"."""
        offset = parse_duration(self.start.lstrip("-+")) * (-1 if self.start.startswith("-") else 1)
        start = now + offset
        return start, start + parse_duration(self.duration)


class Scenario(_Model, frozen=True, kw_only=True):
    """A whole demo: the plugin, its tenants and tools, and the incidents."""

    plugin: NonEmpty
    version: str = "1.0.0"
    seed: int = 7
    history: str = "6h"
    tenants: Annotated[list[str], msgspec.Meta(min_length=1)]
    p99_target: str | None = "2s"
    tools: Annotated[list[Tool], msgspec.Meta(min_length=1)]
    incidents: list[Incident] = []

    def __post_init__(self) -> None:
        _duration("history", self.history)
        tools = {t.name: t for t in self.tools}
        if len(tools) != len(self.tools):
            raise Invalid("tools", "two tools share a name")
        if len(set(self.tenants)) != len(self.tenants):
            raise Invalid("tenants", "a tenant is listed twice")
        for i, inc in enumerate(self.incidents):
            if inc.tool not in tools:
                raise Invalid(f"incidents.{i}.tool", f"no tool named {inc.tool!r}")
            if inc.tenant != "*" and inc.tenant not in self.tenants:
                raise Invalid(f"incidents.{i}.tenant", f"{inc.tenant!r} is not in tenants")
            if inc.cause == "cpu" and inc.function not in tools[inc.tool].functions:
                raise Invalid(f"incidents.{i}.function", "cause cpu needs one of the tool's functions")
            if inc.cause == "downstream" and inc.span not in tools[inc.tool].downstream:
                raise Invalid(f"incidents.{i}.span", "cause downstream needs one of the tool's downstream spans")
            if inc.cause == "errors" and inc.factor > 1:
                raise Invalid(f"incidents.{i}.factor", "for errors the factor is the error ratio (0-1)")

    @property
    def history_s(self) -> float:
        return parse_duration(self.history)

    def tool(self, name: str) -> Tool:
        return next(t for t in self.tools if t.name == name)


def scenario_from(data: Mapping[str, Any]) -> Scenario:
    """A scenario from plain data, as a file's is read.

    Raises:
        InvalidValue: naming the first wrong key.
    """
    return convert(data, Scenario)


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
        return scenario_from(data)
    except InvalidValue as e:
        raise ConfigError(f"scenario error: {where}: {e}") from None
