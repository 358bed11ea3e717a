"""Provides the scenario model (DESIGN §5): validated TOML with one-line errors naming the key."""

from __future__ import annotations

import itertools
import re
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


class Attribute(_Model, frozen=True, kw_only=True):
    """A span attribute of the plugin's own: categorical (`values`, value → share) or a number in `range`."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]
    values: dict[str, Annotated[float, msgspec.Meta(gt=0)]] = {}
    range: list[float] = []

    def __post_init__(self) -> None:
        if bool(self.values) == bool(self.range):
            raise Invalid("values", "give either values (value -> share) or range = [low, high]")
        if self.range and (len(self.range) != 2 or self.range[0] > self.range[1]):
            raise Invalid("range", "must be [low, high] with low <= high")


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
    users: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 20
    """Distinct `user.id` values per tenant (`u-1` … `u-N`), calls spread unevenly but deterministically."""
    models: dict[str, Annotated[float, msgspec.Meta(gt=0)]] = {}
    """The model mix, model → share of calls (normalised); empty means `llm_model` alone."""
    attributes: list[Attribute] = []
    """The plugin's own span attributes on the tool span."""

    def __post_init__(self) -> None:
        names = [a.name for a in self.attributes]
        if len(set(names)) != len(names):
            raise Invalid("attributes", "two attributes share a name")

    @property
    def model_mix(self) -> dict[str, float]:
        """Model → share of calls, summing to 1."""
        mix = self.models or {self.llm_model: 1.0}
        total = sum(mix.values())
        return {m: w / total for m, w in mix.items()}


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
    cause: Literal["llm", "cpu", "downstream", "errors", "cost", "throttling", "neighbour"]
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
    where: dict[str, str] = {}
    """Only calls with these attribute values are affected (a `tools.attributes` name, `llm.model`, `user.id`)."""
    onset: Literal["step", "ramp"] = "step"
    ramp: str = "10m"
    """With onset ramp: the factor grows linearly from 1 over this long."""
    prompt_tokens_factor: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    """Cause llm or cost: prompt tokens per call × this (a prompt that grew)."""
    contention: Annotated[float, msgspec.Meta(ge=1)] = 1.0
    """Cause neighbour, or cpu for one tenant: every other tenant's calls of the tool are this much slower,
    where they wait (a shared pod whose event loop the tenant's surge, or its dearer calls, keep busy)."""

    @property
    def contends(self) -> bool:
        """Whether the incident slows the tool's other tenants too (a neighbour's)."""
        return self.cause == "neighbour" or (self.cause == "cpu" and self.contention > 1)

    def __post_init__(self) -> None:
        _duration("start", self.start)
        _duration("duration", self.duration)
        _duration("ramp", self.ramp)

    def ramp_s(self) -> float:
        return parse_duration(self.ramp) if self.onset == "ramp" else 0.0

    def window(self, now: float) -> tuple[float, float]:
        """(start, end) in epoch seconds for a given "now"."""
        start = now + _offset(self.start)
        return start, start + parse_duration(self.duration)


BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")


_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$")


def _seconds(field: str, v: str) -> float:
    """`0.2s`, `250ms`, `1m`, `0s` as seconds."""
    m = _SECONDS.match(v)
    if not m:
        raise Invalid(field, f"not a duration: {v.strip()!r} (write a range as 0.2s..3s)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)]


def lag_range(field: str, v: str) -> tuple[float, float]:
    """`"0.2s..3s"` (or one duration) as (low, high) seconds."""
    lo, sep, hi = v.partition("..")
    a = _seconds(field, lo)
    b = _seconds(field, hi) if sep else a
    if a > b:
        raise Invalid(field, "the low end is above the high end")
    if b > 600:
        raise Invalid(field, "at most 10m")
    return a, b


class Realism(_Model, frozen=True, kw_only=True):
    """How the demo's telemetry is imperfect, as real telemetry is (DESIGN §5.2). Every default is the
    perfect world, so a scenario without the table keeps its answers."""

    global_scrape_interval: str | None = None
    """What /api/v1/status/config says; the plugin's own job scrapes at the scenario's scrape_interval."""
    missed_scrapes: Annotated[float, msgspec.Meta(ge=0, lt=0.5)] = 0.0
    log_lag: str = "0s"
    trace_lag: str = "0s"
    exemplars: bool = True
    trace_sampling: Annotated[float, msgspec.Meta(gt=0, le=1)] = 1.0
    loki_patterns: bool = True
    pods: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    restarts: list[str] = []
    partial: list[str] = []
    error_line_volume: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    buckets: list[float] = []
    """The histogram's upper bounds (+Inf is added); empty = the demo's own fine buckets."""

    def __post_init__(self) -> None:
        if self.global_scrape_interval is not None:
            _duration("global_scrape_interval", self.global_scrape_interval)
        lag_range("log_lag", self.log_lag)
        lag_range("trace_lag", self.trace_lag)
        for i, r in enumerate(self.restarts):
            if not r.startswith("-"):
                raise Invalid(f"restarts.{i}", "a restart is a time before now, such as -30m")
            _duration(f"restarts.{i}", r)
        for i, b in enumerate(self.partial):
            if b not in BACKENDS:
                raise Invalid(f"partial.{i}", f"{b!r} is not one of {', '.join(BACKENDS)}")
        if self.buckets and (
            any(b <= 0 for b in self.buckets) or any(a >= b for a, b in itertools.pairwise(self.buckets))
        ):
            raise Invalid("buckets", "must be positive and strictly increasing")

    @property
    def log_lag_s(self) -> tuple[float, float]:
        return lag_range("log_lag", self.log_lag)

    @property
    def trace_lag_s(self) -> tuple[float, float]:
        return lag_range("trace_lag", self.trace_lag)

    def restart_times(self, now: float) -> list[float]:
        return sorted(now + _offset(r) for r in self.restarts)


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
    realism: Realism = msgspec.field(default_factory=Realism)

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
            if inc.cause == "neighbour" and inc.tenant == "*":
                raise Invalid(f"incidents.{i}.tenant", "cause neighbour needs one tenant (the one that surges)")
            if inc.contends and inc.tenant == "*":
                raise Invalid(f"incidents.{i}.tenant", "contention needs one tenant (the one whose calls got dearer)")
            tool = tools[inc.tool]
            known = {a.name for a in tool.attributes} | {"llm.model", "user.id"}
            for name, value in inc.where.items():
                if name not in known:
                    raise Invalid(f"incidents.{i}.where", f"{name!r} is not an attribute of {inc.tool!r}")
                attr = next((a for a in tool.attributes if a.name == name), None)
                if attr is not None and attr.values and value not in attr.values:
                    raise Invalid(f"incidents.{i}.where", f"{value!r} is not a value of {name!r}")
                if name == "llm.model" and value not in tool.model_mix:
                    raise Invalid(f"incidents.{i}.where", f"{value!r} is not one of the tool's models")

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
