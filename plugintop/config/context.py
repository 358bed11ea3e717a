"""Provides the configuration: a TOML file of named contexts (like kubectl), `PLUGINTOP_*`
environment variables and flags, merged with precedence flags > environment > file > defaults.

    current-context = "prod"

    [contexts.prod.grafana]
    url = "https://grafana.example.com"
    auth = { type = "bearer", token_env = "GRAFANA_TOKEN" }

    [contexts.prod.prometheus]
    datasource_uid = "mimir-prod"          # through Grafana, or `url = ...` for direct access

    [contexts.prod.slo]
    p99_target = "2s"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from plugintop.errors import ConfigError, UsageError
from plugintop.schema import Schema
from plugintop.structs import Invalid, InvalidValue, Secret, convert, to_plain
from plugintop.timerange import parse_duration

BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")
"""The four backends, in the order plugintop shows them."""

_ORG_ID = re.compile(r"[A-Za-z0-9!_.*'()-]{1,150}")

Positive = Annotated[float, msgspec.Meta(gt=0)]


def validate_org_id(value: str) -> str:
    """Checks a backend tenant id (`X-Scope-OrgID`); `|` would federate tenants, so it is refused."""
    if "|" in value:
        raise ValueError("a '|' in a tenant id would query several tenants at once; give exactly one tenant")
    if not _ORG_ID.fullmatch(value) or value in (".", ".."):
        raise ValueError("a tenant id is 1-150 characters of A-Z a-z 0-9 ! _ . * ' ( ) - and not '.' or '..'")
    return value


class _Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the configuration: immutable, unknown keys refused (a typo must not pass silently).
    (mypy reads each class's own keywords, so the subclasses repeat `frozen` and `kw_only`.)"""


class Auth(_Model, frozen=True, kw_only=True):
    """Credentials: bearer or basic; secrets from an environment variable, a file (0600) or inline."""

    type: Literal["none", "bearer", "basic"] = "none"
    token: Secret | None = None
    token_env: str | None = None
    token_file: Path | None = None
    username: str | None = None
    password: Secret | None = None
    password_env: str | None = None
    password_file: Path | None = None


class TLS(_Model, frozen=True, kw_only=True):
    """TLS options; verification is on unless `insecure` is asked for."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False


class Timeouts(_Model, frozen=True, kw_only=True):
    """Seconds to connect and to wait for an answer."""

    connect: Positive = 3.0
    read: Positive = 20.0


class BackendConfig(_Model, frozen=True, kw_only=True):
    """How to reach one backend: a direct URL, or a Grafana datasource uid."""

    url: str | None = None
    datasource_uid: str | None = None
    tenant: str | None = None
    """The backend tenant sent as `X-Scope-OrgID` (not the plugin's tenant)."""
    auth: Auth = msgspec.field(default_factory=Auth)
    tls: TLS = msgspec.field(default_factory=TLS)
    timeout: Timeouts = msgspec.field(default_factory=Timeouts)
    scrape_interval: str | None = None
    """Prometheus only: the scrape interval of the plugin's metrics (found from the server when unset)."""

    def __post_init__(self) -> None:
        if self.scrape_interval is not None:
            try:
                parse_duration(self.scrape_interval)
            except UsageError as e:
                raise Invalid("scrape_interval", str(e)) from None
        if self.url is not None:
            if not re.match(r"https?://[^\s/]+", self.url):
                raise Invalid("url", "must start with http:// or https:// and name a host")
            msgspec.structs.force_setattr(self, "url", self.url.rstrip("/"))
        if self.tenant is not None:
            try:
                validate_org_id(self.tenant)
            except ValueError as e:
                raise Invalid("tenant", str(e)) from None


class GrafanaConfig(BackendConfig, frozen=True, kw_only=True):
    """Grafana, when the backends are reached through its datasource proxy."""

    org_id: int | None = None
    dashboard_uid: str | None = None
    """The platform's "Plugin Overview" dashboard (variables `plugin` and `tenant`): every report and the
    screen's help link to it for the same absolute range."""


class SLO(_Model, frozen=True, kw_only=True):
    """Targets: success ratio, p99 latency (all tools or per tool), daily LLM budget."""

    success_target: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.995
    p99_target: str | None = None
    p99_targets: dict[str, str] = {}
    daily_budget_usd: Positive | None = None

    def __post_init__(self) -> None:
        for tool, text in [(None, self.p99_target), *self.p99_targets.items()]:
            if text is not None:
                try:
                    parse_duration(text)
                except UsageError as e:
                    raise Invalid("p99_target" if tool is None else f"p99_targets.{tool}", str(e)) from None

    def p99_target_s(self, tool: str | None = None) -> float | None:
        """The p99 target in seconds for `tool`, or the plugin-wide one."""
        if tool is not None and tool in self.p99_targets:
            return parse_duration(self.p99_targets[tool])
        return parse_duration(self.p99_target) if self.p99_target else None


class Tail(_Model, frozen=True, kw_only=True):
    """The live tail: how a JSON line is shown, how many lines are kept, and how late a line may reach
    Loki and still be shown unmarked."""

    template: str = "time level event tool msg"
    """Fields shown for a JSON line, in order (`time` is the entry's time); the whole object is shown on
    selection."""
    buffer_lines: Annotated[int, msgspec.Meta(ge=1_000, le=5_000_000)] = 100_000
    settle: str = "5s"
    """The settle window: every poll reads this far behind now again, so a line that reaches Loki up to
    this long after its own timestamp (a shipper's batching: ~1 s for Promtail, Alloy, Fluent Bit) is shown
    unmarked; a later one is shown marked late (`live.follow`). At most 10 minutes."""

    def __post_init__(self) -> None:
        if not self.template.split():
            raise Invalid("template", "name at least one field, e.g. 'time level msg'")
        try:
            seconds = parse_duration(self.settle)
        except UsageError as e:
            raise Invalid("settle", str(e)) from None
        if seconds > 600:
            raise Invalid("settle", f"{self.settle!r} is over 10 minutes (the tail re-reads it at every poll)")

    @property
    def settle_s(self) -> float:
        """The settle window in seconds."""
        return parse_duration(self.settle)


class Context(_Model, frozen=True, kw_only=True):
    """One named context: where the backends are and what the names and targets are."""

    grafana: GrafanaConfig | None = None
    prometheus: BackendConfig = msgspec.field(default_factory=BackendConfig)
    loki: BackendConfig = msgspec.field(default_factory=BackendConfig)
    tempo: BackendConfig = msgspec.field(default_factory=BackendConfig)
    pyroscope: BackendConfig = msgspec.field(default_factory=BackendConfig)
    telemetry: Schema = msgspec.field(default_factory=Schema, name="schema")
    slo: SLO = msgspec.field(default_factory=SLO)
    tail: Tail = msgspec.field(default_factory=Tail)

    def backend(self, name: str) -> BackendConfig:
        cfg: BackendConfig = getattr(self, name)
        return cfg


class ConfigFile(_Model, frozen=True, kw_only=True):
    """The whole file."""

    current_context: str | None = msgspec.field(default=None, name="current-context")
    contexts: dict[str, Context] = {}


def context_from(data: Mapping[str, Any]) -> Context:
    """A context from plain data (`{"prometheus": {"url": ...}}`), as a file's context is read.

    Raises:
        InvalidValue: naming the first wrong key.
    """
    return convert(data, Context)


def default_config_path(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/plugintop/config.toml` (or `~/.config/...`)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "plugintop" / "config.toml"


class _RawFile(_Model, frozen=True, kw_only=True):
    current_context: str | None = msgspec.field(default=None, name="current-context")
    contexts: dict[str, dict[str, Any]] = {}


def load_file(path: Path) -> ConfigFile:
    """Reads and validates the TOML file; every mistake becomes one `ConfigError` line."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"config error: {path}: cannot read ({e.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config error: {path}: not valid TOML: {e}") from None
    try:
        top = convert(data, _RawFile)
        # one context at a time, so that a mistake's key names its context
        contexts = {name: convert(body, Context, f"contexts.{name}") for name, body in top.contexts.items()}
    except InvalidValue as e:
        raise ConfigError(f"config error: {path}: {e}") from None
    cfg = ConfigFile(current_context=top.current_context, contexts=contexts)
    if cfg.current_context and cfg.current_context not in cfg.contexts:
        raise ConfigError(f"config error: {path}: current-context: no context named {cfg.current_context!r}")
    return cfg


def file_is_private(path: Path) -> bool:
    """Whether only the owner can read the file."""
    try:
        return (path.stat().st_mode & 0o077) == 0
    except OSError:
        return True


def _has_inline_secret(ctx: Context) -> bool:
    parts: list[BackendConfig] = [ctx.backend(b) for b in BACKENDS]
    if ctx.grafana:
        parts.append(ctx.grafana)
    return any(p.auth.token is not None or p.auth.password is not None for p in parts)


def select_context(cfg: ConfigFile, name: str | None, path: Path | None) -> tuple[str, Context, list[str]]:
    """Picks the context (flag/env name, else current-context, else the only one, else defaults).

    Returns:
        The context's name, the context, and warnings for the user.
    """
    warnings: list[str] = []
    chosen = name or cfg.current_context
    if chosen is None and len(cfg.contexts) == 1:
        chosen = next(iter(cfg.contexts))
    if chosen is None:
        return "default", Context(), warnings
    if chosen not in cfg.contexts:
        where = f" in {path}" if path else ""
        known = ", ".join(sorted(cfg.contexts)) or "none"
        raise ConfigError(f"config error: no context named {chosen!r}{where} (known: {known})")
    ctx = cfg.contexts[chosen]
    if path is not None and _has_inline_secret(ctx) and not file_is_private(path):
        warnings.append(f"warning: {path} holds a secret and others can read it: run chmod 600 {path}")
    return chosen, ctx, warnings


def apply_overrides(ctx: Context, overrides: Mapping[str, Any], source: str) -> Context:
    """Returns `ctx` with dotted keys (`prometheus.url`, `slo.p99_target`) replaced.

    Raises:
        ConfigError: naming `source` (a flag or an environment variable) and the key.
    """
    data = to_plain(ctx)
    for dotted, value in overrides.items():
        node = data
        keys = dotted.split(".")
        for k in keys[:-1]:
            if node.get(k) is None:
                node[k] = {}
            node = node[k]
        node[keys[-1]] = value
    try:
        return context_from(data)
    except InvalidValue as e:
        raise ConfigError(f"{source}: {e}") from None


ENV_KEYS: dict[str, str] = {
    "PLUGINTOP_GRAFANA_URL": "grafana.url",
    "PLUGINTOP_PROMETHEUS_URL": "prometheus.url",
    "PLUGINTOP_LOKI_URL": "loki.url",
    "PLUGINTOP_TEMPO_URL": "tempo.url",
    "PLUGINTOP_PYROSCOPE_URL": "pyroscope.url",
    "PLUGINTOP_P99_TARGET": "slo.p99_target",
}
"""Environment variables that set a context key (secrets have their own: see `credentials`)."""


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The context keys set by `PLUGINTOP_*` variables."""
    out: dict[str, Any] = {}
    for var, key in ENV_KEYS.items():
        if env.get(var):
            out[key] = env[var]
    for b in (*BACKENDS, "grafana"):
        var = f"PLUGINTOP_{b.upper()}_TOKEN"
        if env.get(var):
            out[f"{b}.auth.type"] = "bearer"
            out[f"{b}.auth.token_env"] = var
    return out
