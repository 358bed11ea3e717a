"""Provides the resolution of secrets (environment variable, private file, or inline) into request
credentials. Every resolved secret is registered with `redact` so it can never be printed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from plugintop.config.context import Auth, file_is_private
from plugintop.errors import ConfigError
from plugintop.redact import register_secret


@dataclass(frozen=True)
class Credentials:
    """What goes on each request: an Authorization header or basic-auth pair."""

    headers: dict[str, str] = field(default_factory=dict, repr=False)
    basic: tuple[str, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        kind = "basic" if self.basic else ("bearer" if self.headers else "none")
        return f"Credentials({kind})"


def _read_secret_file(path: Path, what: str) -> str:
    if not file_is_private(path):
        raise ConfigError(f"{what}: {path} can be read by other users; refusing to use it (fix: chmod 600 {path})")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"{what}: cannot read {path} ({e.strerror})") from None


def _secret(
    inline: str | None, env_name: str | None, file: Path | None, env: Mapping[str, str], what: str
) -> str | None:
    if env_name:
        value = env.get(env_name)
        if not value:
            raise ConfigError(f"{what}: the environment variable {env_name} is not set")
    elif file is not None:
        value = _read_secret_file(file.expanduser(), what)
    else:
        value = inline
    if value:
        register_secret(value)
    return value


def resolve(auth: Auth, what: str, env: Mapping[str, str] | None = None) -> Credentials:
    """Turns an `Auth` block into request credentials.

    Args:
        auth: the block from the configuration.
        what: the config key, for messages (`prometheus.auth`).
        env: the environment (default: `os.environ`).
    """
    env = os.environ if env is None else env
    if auth.type == "none":
        return Credentials()
    if auth.type == "bearer":
        inline = auth.token.get_secret_value() if auth.token else None
        token = _secret(inline, auth.token_env, auth.token_file, env, f"{what}.token")
        if not token:
            raise ConfigError(f"{what}: type bearer needs token_env, token_file or token")
        return Credentials(headers={"Authorization": f"Bearer {token}"})
    inline = auth.password.get_secret_value() if auth.password else None
    password = _secret(inline, auth.password_env, auth.password_file, env, f"{what}.password")
    if not auth.username or password is None:
        raise ConfigError(f"{what}: type basic needs username and password_env, password_file or password")
    return Credentials(basic=(auth.username, password))
