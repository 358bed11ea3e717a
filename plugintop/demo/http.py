"""Provides the loopback HTTP server the demo backends run on (standard library, one thread per
connection, so the app's event loop never waits on the demo)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from plugintop import __version__


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def get(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.params:
            if k == name:
                return v
        return default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: object, status: int = 200, content_type: str = "application/json") -> Response:
        return cls(status, json.dumps(obj, separators=(",", ":"), allow_nan=False).encode(), content_type)

    @classmethod
    def text(cls, text: str, status: int, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), content_type)


Handler = Callable[[Request], Response]

BUILDINFO = {
    "version": f"plugintop-demo-{__version__}",
    "revision": "demo",
    "branch": "demo",
    "buildUser": "",
    "buildDate": "",
    "goVersion": "",
}
"""What every demo backend answers to `status/buildinfo` (in its own envelope)."""


class _Listener(ThreadingHTTPServer):
    request_queue_size = 128
    """The standard library's backlog of 5 drops the SYNs of a burst of concurrent connections (the
    triage opens 22 at once), and the kernel retries them after a second."""


class Server:
    """One backend on 127.0.0.1 (or `host`), a free port unless given."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.httpd = _Listener((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        addr = self.httpd.server_address
        host = addr[0].decode() if isinstance(addr[0], bytes) else str(addr[0])
        port = addr[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> Server:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this, Nagle + delayed ACK cost 40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                params = parse_qsl(u.query, keep_blank_values=True)
                if self.command == "POST" and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                req = Request(self.command, u.path, params, {k.lower(): v for k, v in self.headers.items()}, body)
                try:
                    resp = server.handler(req)
                except Exception as e:  # a bug in the demo must answer like a backend, not hang
                    resp = Response.text(f"internal error: {type(e).__name__}: {e}", 500)
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(resp.body)

            do_GET = do_POST = _serve

        return _H
