from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.servers import Backend, serve


@pytest.fixture
def backend() -> Iterator[Backend]:
    """A loopback server that answers whatever routes the test gives it."""
    with serve(Backend()) as b:
        yield b


@pytest.fixture
async def http(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.url, timeout=5) as client:
        yield client
