"""Provides `load_context`: the file's context, then `PLUGINTOP_*` variables, then flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugintop.config.context import (
    ConfigFile,
    Context,
    apply_overrides,
    default_config_path,
    env_overrides,
    load_file,
    select_context,
)


@dataclass(frozen=True)
class Loaded:
    """The chosen context and where it came from."""

    name: str
    context: Context
    path: Path | None
    warnings: list[str] = field(default_factory=list)


def load_context(
    config_path: str | None, context: str | None, flags: Mapping[str, Any], env: Mapping[str, str]
) -> Loaded:
    """Merges defaults < file < environment < flags.

    Args:
        config_path: `--config`; else `PLUGINTOP_CONFIG`; else the XDG path if it exists.
        context: `--context`; else `PLUGINTOP_CONTEXT`; else the file's current-context.
        flags: dotted context keys set on the command line (`prometheus.url`).
    """
    explicit = config_path or env.get("PLUGINTOP_CONFIG")
    path = Path(explicit).expanduser() if explicit else default_config_path(env)
    cfg = load_file(path) if explicit or path.exists() else ConfigFile()
    name, ctx, warnings = select_context(cfg, context or env.get("PLUGINTOP_CONTEXT"), path if path.exists() else None)
    from_env = env_overrides(env)
    if "grafana.url" in flags:  # --grafana-url: every backend through Grafana, unless a flag names its own URL
        direct = sorted(k for k in from_env if k.endswith(".url") and k != "grafana.url" and k not in flags)
        for key in direct:
            del from_env[key]
            variable = "PLUGINTOP_" + key.removesuffix(".url").upper() + "_URL"
            warnings.append(f"warning: {variable} ignored: --grafana-url reaches that backend through Grafana")
    if from_env:
        ctx = apply_overrides(ctx, from_env, "environment (PLUGINTOP_*)")
    if flags:
        ctx = apply_overrides(ctx, flags, "command line")
    if env.get("SSLKEYLOGFILE"):
        warnings.append("warning: SSLKEYLOGFILE is set: TLS session keys are written to that file")
    return Loaded(name, ctx, path if path.exists() else None, warnings)
