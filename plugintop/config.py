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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from plugintop.errors import ConfigError
from plugintop.schema import Schema
from plugintop.timerange import parse_duration

BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")
"""The four backends, in the order plugintop shows them."""

_ORG_ID = re.compile(r"[A-Za-z0-9!_.*'()-]{1,150}")


def validate_org_id(value: str) -> str:
    """Checks a backend tenant id (`X-Scope-OrgID`); `|` would federate tenants, so it is refused."""
    if "|" in value:
        raise ValueError("a '|' in a tenant id would query several tenants at once; give exactly one tenant")
    if not _ORG_ID.fullmatch(value) or value in (".", ".."):
        raise ValueError("a tenant id is 1-150 characters of A-Z a-z 0-9 ! _ . * ' ( ) - and not '.' or '..'")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Auth(_Model):
    """Credentials: bearer or basic; secrets from an environment variable, a file (0600) or inline."""

    type: Literal["none", "bearer", "basic"] = "none"
    token: SecretStr | None = None
    token_env: str | None = None
    token_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None


class TLS(_Model):
    """TLS options; verification is on unless `insecure` is asked for."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False


class Timeouts(_Model):
    """Seconds to connect and to wait for an answer."""

    connect: float = Field(default=3.0, gt=0)
    read: float = Field(default=20.0, gt=0)


class BackendConfig(_Model):
    """How to reach one backend: a direct URL, or a Grafana datasource uid."""

    url: str | None = None
    datasource_uid: str | None = None
    tenant: str | None = None
    """The backend tenant sent as `X-Scope-OrgID` (not the plugin's tenant)."""
    auth: Auth = Auth()
    tls: TLS = TLS()
    timeout: Timeouts = Timeouts()

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"https?://[^\s/]+", v):
            raise ValueError("must start with http:// or https:// and name a host")
        return v.rstrip("/") if v else v

    @field_validator("tenant")
    @classmethod
    def _tenant(cls, v: str | None) -> str | None:
        return validate_org_id(v) if v is not None else v


class GrafanaConfig(BackendConfig):
    """Grafana, when the backends are reached through its datasource proxy."""

    org_id: int | None = None


class SLO(_Model):
    """Targets: success ratio, p99 latency (all tools or per tool), daily LLM budget."""

    success_target: float = Field(default=0.995, gt=0, lt=1)
    p99_target: str | None = None
    p99_targets: dict[str, str] = {}
    daily_budget_usd: float | None = Field(default=None, gt=0)

    @field_validator("p99_target")
    @classmethod
    def _dur(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    def p99_target_s(self, tool: str | None = None) -> float | None:
        """The p99 target in seconds for `tool`, or the plugin-wide one."""
        if tool is not None and tool in self.p99_targets:
            return parse_duration(self.p99_targets[tool])
        return parse_duration(self.p99_target) if self.p99_target else None


class Tail(_Model):
    """The live tail: how a JSON line is shown, and how many lines are kept."""

    template: str = "time level event tool msg"
    """Fields shown for a JSON line, in order (`time` is the entry's time); the whole object is shown on
    selection."""
    buffer_lines: int = Field(default=100_000, ge=1_000, le=5_000_000)

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        if not v.split():
            raise ValueError("name at least one field, e.g. 'time level msg'")
        return v


class Context(_Model):
    """One named context: where the backends are and what the names and targets are."""

    grafana: GrafanaConfig | None = None
    prometheus: BackendConfig = BackendConfig()
    loki: BackendConfig = BackendConfig()
    tempo: BackendConfig = BackendConfig()
    pyroscope: BackendConfig = BackendConfig()
    telemetry: Schema = Field(default=Schema(), alias="schema")
    slo: SLO = SLO()
    tail: Tail = Tail()

    def backend(self, name: str) -> BackendConfig:
        cfg: BackendConfig = getattr(self, name)
        return cfg


class ConfigFile(_Model):
    """The whole file."""

    current_context: str | None = Field(default=None, alias="current-context")
    contexts: dict[str, Context] = {}


def default_config_path(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/plugintop/config.toml` (or `~/.config/...`)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "plugintop" / "config.toml"


def _first_error(e: ValidationError) -> tuple[str, str]:
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return key, msg.removeprefix("Value error, ")


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
        cfg = ConfigFile.model_validate(data)
    except ValidationError as e:
        key, msg = _first_error(e)
        raise ConfigError(f"config error: {path}: {key}: {msg}") from None
    except ConfigError:
        raise
    except Exception as e:  # a validator raising UsageError (durations) lands here
        raise ConfigError(f"config error: {path}: {e}") from None
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
    data = ctx.model_dump(by_alias=True, exclude_none=False)
    for dotted, value in overrides.items():
        node = data
        keys = dotted.split(".")
        for k in keys[:-1]:
            if node.get(k) is None:
                node[k] = {}
            node = node[k]
        node[keys[-1]] = value
    try:
        return Context.model_validate(_unsecret(data))
    except ValidationError as e:
        key, msg = _first_error(e)
        raise ConfigError(f"{source}: {key}: {msg}") from None


def _unsecret(data: Any) -> Any:
    if isinstance(data, SecretStr):
        return data.get_secret_value()
    if isinstance(data, dict):
        return {k: _unsecret(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unsecret(v) for v in data]
    return data


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
