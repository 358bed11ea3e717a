"""Loopback HTTP servers for the tests: a replaying backend (answers recorded responses over a real
socket and records every request) and a Grafana that proxies to such backends."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Answer:
    status: int
    body: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and not self.content_type.startswith("application/json"):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


class Backend:
    """Answers `(method, path)` routes; anything else gets 404. Records requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer] = {}
        self.requests: list[Request] = []
        self.prefixes: dict[str, Backend] = {}
        self.url = ""

    def route(self, method: str, path: str, answer: Answer) -> None:
        self.routes[(method, path)] = answer

    def answer(self, req: Request) -> Answer:
        for prefix, target in self.prefixes.items():
            if req.path.startswith(prefix):
                inner = Request(req.method, req.path[len(prefix) :] or "/", req.params, req.headers, req.body)
                target.requests.append(inner)
                return target.answer(inner)
        ans = self.routes.get((req.method, req.path))
        return ans or Answer(404, "404 page not found\n", "text/plain")


def _handler(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            u = urlsplit(self.path)
            req = Request(self.command, u.path, parse_qsl(u.query, keep_blank_values=True), dict(self.headers), body)
            backend.requests.append(req)
            ans = backend.answer(req)
            data = ans.encoded()
            self.send_response(ans.status)
            if ans.content_type:
                self.send_header("Content-Type", ans.content_type)
            for k, v in ans.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return H


class _Listener(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops a burst of concurrent connects for a second


@contextmanager
def serve(backend: Backend) -> Iterator[Backend]:
    """Serves `backend` on 127.0.0.1 (a free port) in a thread; `backend.url` is its base URL."""
    srv = _Listener(("127.0.0.1", 0), _handler(backend))
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    backend.url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield backend
    finally:
        srv.shutdown()
        srv.server_close()
