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
    error_messages: list[str] = []
    """Messages of ordinary failures; `{ms}`, `{id}`, `{ip}`, `{model}` are filled with varying values."""


class Rollout(_Model, frozen=True, kw_only=True):
    """From `start`, these tenants' calls are served by `version`."""

    version: NonEmpty
    start: str
    tenants: list[str] = msgspec.field(default_factory=lambda: ["*"])

    def __post_init__(self) -> None:
        _duration("start", self.start)

    def begins(self, now: float) -> float:
        return now + _offset(self.start)

    def covers(self, tenant: str) -> bool:
        return "*" in self.tenants or tenant in self.tenants


class Metric(_Model, frozen=True, kw_only=True):
    """A business counter the plugin emits through the SDK's meter: `per_call` for every call of `tool`."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    tool: str
    per_call: Annotated[float, msgspec.Meta(ge=0)] = 1.0


def _offset(rel: str) -> float:
    return parse_duration(rel.lstrip("-+")) * (-1 if rel.startswith("-") else 1)


class Incident(_Model, frozen=True, kw_only=True):
    """A stretch of time where one tool misbehaves for one tenant (or `*`, every tenant)."""

    tenant: str
    tool: str
    start: str
    """Relative to now: `-45m`."""
    duration: str
    cause: Literal["llm", "cpu", "downstream", "errors", "cost"]
    factor: Annotated[float, msgspec.Meta(gt=0)]
    """Latency multiplier; for `errors`, the error ratio; for `cost`, tokens (and cost) per call."""
    function: str | None = None
    span: str | None = None
    version: str | None = None
    """Only calls served by this version are affected (a deploy regression)."""
    message: str | None = None
    """Cause errors: the failed calls' log message in the window."""
    latency_factor: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    """Cause errors: the failed calls' latency multiplier (timeouts)."""
    metric_factor: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    """Scales the business metrics of the incident's tenant, window and version."""

    def __post_init__(self) -> None:
        _duration("start", self.start)
        _duration("duration", self.duration)

    def window(self, now: float) -> tuple[float, float]:
        """(start, end) in epoch seconds for a given "now"."""
        start = now + _offset(self.start)
        return start, start + parse_duration(self.duration)


class Scenario(_Model, frozen=True, kw_only=True):
    """A whole demo: the plugin, its tenants and tools, and the incidents."""

    plugin: NonEmpty
    version: str = "1.0.0"
    seed: int = 7
    history: str = "6h"
    scrape_interval: str = "15s"
    """Sample spacing of the metrics (10 s to 60 s), as a real scrape would give."""
    tenants: Annotated[list[str], msgspec.Meta(min_length=1)]
    p99_target: str | None = "2s"
    tools: Annotated[list[Tool], msgspec.Meta(min_length=1)]
    incidents: list[Incident] = []
    rollouts: list[Rollout] = []
    metrics: list[Metric] = []

    def __post_init__(self) -> None:
        _duration("history", self.history)
        _duration("scrape_interval", self.scrape_interval)
        if not 10 <= parse_duration(self.scrape_interval) <= 60:
            raise Invalid("scrape_interval", "must be from 10s to 60s")
        versions = {self.version, *(r.version for r in self.rollouts)}
        for i, r in enumerate(self.rollouts):
            if bad := [t for t in r.tenants if t != "*" and t not in self.tenants]:
                raise Invalid(f"rollouts.{i}.tenants", f"{bad[0]!r} is not in tenants")
        for i, m in enumerate(self.metrics):
            if m.tool not in {t.name for t in self.tools}:
                raise Invalid(f"metrics.{i}.tool", f"no tool named {m.tool!r}")
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
            if inc.version is not None and inc.version not in versions:
                raise Invalid(f"incidents.{i}.version", f"{inc.version!r} is neither the version nor a rollout's")

    @property
    def history_s(self) -> float:
        return parse_duration(self.history)

    @property
    def scrape_s(self) -> float:
        return parse_duration(self.scrape_interval)

    @property
    def versions(self) -> list[str]:
        """Every version that serves at some point: the base one first, then the rollouts'."""
        return list(dict.fromkeys([self.version, *(r.version for r in self.rollouts)]))

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
