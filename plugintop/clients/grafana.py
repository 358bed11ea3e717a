"""Provides `GrafanaClient`: datasource discovery (`/api/datasources`) and the proxy base URL
through which the backend clients speak to a datasource (`/api/datasources/proxy/uid/<uid>`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from plugintop.clients._http import decode_json, send
from plugintop.errors import BadResponse, NotFound

DATASOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "loki": ("loki",),
    "tempo": ("tempo",),
    "pyroscope": ("grafana-pyroscope-datasource", "phlare"),
}
"""Grafana datasource `type` values for each backend."""


@dataclass(frozen=True, slots=True)
class DataSource:
    uid: str
    name: str
    type: str
    url: str = ""
    is_default: bool = False


def proxy_path(uid: str) -> str:
    """The path prefix of a datasource behind Grafana's proxy."""
    return f"/api/datasources/proxy/uid/{quote(uid, safe='')}"


class GrafanaClient:
    """Client of the few Grafana endpoints plugintop needs."""

    def __init__(self, http: httpx.AsyncClient, backend: str = "grafana") -> None:
        self.http = http
        self.backend = backend

    async def datasources(self) -> list[DataSource]:
        resp = await send(self.http, self.backend, "GET", "/api/datasources")
        body = decode_json(resp, self.backend)
        if not isinstance(body, list):
            raise BadResponse(self.backend, "/api/datasources did not answer a list")
        return [
            DataSource(
                str(d.get("uid", "")),
                str(d.get("name", "")),
                str(d.get("type", "")),
                str(d.get("url", "")),
                bool(d.get("isDefault")),
            )
            for d in body
            if isinstance(d, dict) and d.get("uid")
        ]

    async def version(self) -> str:
        resp = await send(self.http, self.backend, "GET", "/api/health")
        body = decode_json(resp, self.backend)
        return str(body.get("version", "")) if isinstance(body, dict) else ""


def pick_datasource(sources: list[DataSource], backend: str, uid: str | None) -> DataSource:
    """The datasource named by `uid`, else the default one of the backend's type, else the first.

    Raises:
        NotFound: none matches, with the datasources that Grafana has.
    """
    if uid:
        for s in sources:
            if s.uid == uid:
                return s
        raise NotFound("grafana", f"no datasource with uid {uid!r} for {backend}")
    matching = [s for s in sources if s.type in DATASOURCE_TYPES[backend]]
    if not matching:
        types = "/".join(DATASOURCE_TYPES[backend])
        raise NotFound("grafana", f"no {types} datasource in Grafana (set {backend}.datasource_uid or {backend}.url)")
    return next((s for s in matching if s.is_default), matching[0])
