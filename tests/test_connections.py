"""`open_backends`: opens only what is asked, and closes what it opened when a later backend fails."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from plugintop.config.context import context_from
from plugintop.connect import backends
from plugintop.errors import ConfigError


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every `AsyncClient` the connections build, in order."""
    out: list[httpx.AsyncClient] = []
    real = backends.make_client  # type: ignore[attr-defined]

    def recording(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        c = real(*args, **kwargs)
        out.append(c)
        return c

    monkeypatch.setattr(backends, "make_client", recording)
    return out


def test_a_later_backend_without_url_closes_the_clients_already_opened(made: list[httpx.AsyncClient]) -> None:
    ctx = context_from({"prometheus": {"url": "http://127.0.0.1:9"}, "loki": {"url": "http://127.0.0.1:9"}})
    with pytest.raises(ConfigError, match="no URL for tempo"):
        asyncio.run(backends.open_backends(ctx))
    assert len(made) == 2 and all(c.is_closed for c in made)


def test_a_missing_secret_closes_the_clients_already_opened(made: list[httpx.AsyncClient]) -> None:
    ctx = context_from(
        {
            "prometheus": {"url": "http://127.0.0.1:9"},
            "loki": {"url": "http://127.0.0.1:9", "auth": {"type": "bearer", "token_env": "NOT_SET_ANYWHERE"}},
        }
    )
    with pytest.raises(ConfigError):
        asyncio.run(backends.open_backends(ctx, env={}))
    assert len(made) == 1 and made[0].is_closed


def test_only_the_backends_asked_for_are_opened(made: list[httpx.AsyncClient]) -> None:
    """`tail` needs Loki alone: the others need no URL and get no client."""
    ctx = context_from({"loki": {"url": "http://127.0.0.1:9", "tenant": "team-a"}})

    async def go() -> None:
        async with await backends.open_backends(ctx, only=("loki",)) as b:
            assert b.loki is not None and b.prometheus is None and b.tempo is None and b.pyroscope is None
            assert b.urls == {"loki": "http://127.0.0.1:9"}

    asyncio.run(go())
    assert len(made) == 1 and made[0].headers["X-Scope-OrgID"] == "team-a" and made[0].is_closed
