"""A fault-injection server for the tests (loopback): in front of a backend (it forwards what it does
not break) or instead of it. Faults: refused connections, stalls before or after the headers, a reset
mid-body, any status with or without Retry-After (seconds or HTTP-date), an HTML login page with 200,
truncated or invalid JSON, `{"status":"error"}` with 200, warnings, NaN/+Inf, unknown result types,
and huge payloads (a 10,000-span trace, 8,192- and 50,000-node flame graphs, 5,000 lines of 10 KB)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from socketserver import BaseRequestHandler, ThreadingTCPServer
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tests.hostile import HOSTILE


def huge_trace(trace_id: str, spans: int = 10_000) -> dict[str, Any]:
    """A Tempo v2 answer with `spans` spans in a deep-and-wide tree."""
    t0 = 1_800_000_000_000_000_000

    def b64(h: str) -> str:
        return base64.b64encode(bytes.fromhex(h)).decode()

    out = []
    for i in range(spans):
        parent = None if i == 0 else (i - 1) // 4
        span: dict[str, Any] = {
            "traceId": b64(trace_id.rjust(32, "0")),
            "spanId": b64(f"{i + 1:016x}"),
            "name": "plugin.recommender.tool.recommend_courses" if i == 0 else f"step {i % 97}",
            "kind": "SPAN_KIND_INTERNAL",
            "startTimeUnixNano": str(t0 + i * 1000),
            "endTimeUnixNano": str(t0 + i * 1000 + 10_000_000 // (1 + i % 7)),
            "attributes": [{"key": "n", "value": {"intValue": str(i)}}],
            "status": {},
        }
        if parent is not None:
            span["parentSpanId"] = b64(f"{parent + 1:016x}")
        out.append(span)
    return {
        "trace": {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "recommender"}}]},
                    "scopeSpans": [{"spans": out}],
                }
            ]
        },
        "metrics": {},
    }


def huge_flame(nodes: int, connect: bool = True) -> dict[str, Any]:
    """A flame graph of about `nodes` nodes: a root, then levels of fan-out 8."""
    names = ["total"] + [f"fn_{i}" for i in range(nodes)]
    levels: list[list[int]] = [[0, 8**6, 0, 0]]
    made, width, level_nodes = 1, 8**6, 1
    while made < nodes:
        level_nodes = min(level_nodes * 8, nodes - made)
        each = max(1, width // level_nodes)
        row: list[int] = []
        for j in range(level_nodes):
            row += [0, each, each // 2, made + j]
        levels.append(row)
        made += level_nodes
    fg = {"names": names[:made], "levels": levels, "total": width, "maxSelf": width}
    if connect:
        return {
            "flamegraph": {
                "names": fg["names"],
                "levels": [{"values": [str(v) for v in lv]} for lv in levels],
                "total": str(width),
                "maxSelf": str(width),
            }
        }
    return fg


def loki_lines(n: int = 5000, size: int = 10_000) -> dict[str, Any]:
    now = time.time_ns()
    values = [
        [str(now - (n - i) * 1_000_000), json.dumps({"level": "info", "msg": "x" * size, "i": i})] for i in range(n)
    ]
    return {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [{"stream": {"plugin": "recommender", "tenant_id": "acme"}, "values": values}],
        },
    }


PROM_NAN = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {"metric": {"tool": "recommend_courses"}, "values": [[1, "NaN"], [2, "+Inf"], [3, "-Inf"], [4, "1e-7"]]}
        ],
    },
}


class Fault:
    """What to do for a request: `raw` writes to the socket itself; else (status, headers, body)."""

    def __init__(self, mode: str, applies: Callable[[str], bool] = lambda path: True) -> None:
        self.mode, self.applies = mode, applies


def _response(status: int, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    reason = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Status")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class FaultServer:
    """Loopback server injecting `fault` on the paths it applies to and forwarding the rest upstream."""

    def __init__(self, fault: Fault, upstream: str | None = None) -> None:
        self.fault, self.upstream = fault, upstream
        self.requests: list[str] = []
        self.log: list[tuple[float, str, str]] = []
        """(monotonic time, "in" | "out", path) of each request's arrival and answer."""
        server = self

        class H(BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        self.srv = ThreadingTCPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()

    def _read(self, sock: socket.socket) -> tuple[str, str, bytes, dict[str, str]]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", "", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        n = int(headers.get("content-length", "0") or 0)
        while len(body) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return method, target, body, headers

    def _handle(self, sock: socket.socket) -> None:
        try:
            method, target, body, headers = self._read(sock)
        except OSError:
            return
        self.requests.append(target)
        path = target.split("?")[0]
        self.log.append((time.monotonic(), "in", path))
        if not self.fault.applies(path):
            sock.sendall(self._forward(method, target, body, headers))
            sock.close()
            self.log.append((time.monotonic(), "out", path))
            return
        m = self.fault.mode
        try:
            if m.startswith("partial"):  # the real answer with Thanos' partial-response warning
                sock.sendall(_with_warning(self._forward(method, target, body, headers)))
            elif m.startswith("slow:"):  # the real answer, late
                time.sleep(float(m.removeprefix("slow:")))
                sock.sendall(self._forward(method, target, body, headers))
            elif m == "stall_headers":
                time.sleep(30)
            elif m == "stall_body":
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                time.sleep(30)
            elif m == "reset":
                sock.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
                    b'{"status":"success","data":{'
                )
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            else:
                sock.sendall(self._canned(m, target))
        except OSError:
            pass
        finally:
            sock.close()
            self.log.append((time.monotonic(), "out", path))

    def _canned(self, m: str, target: str) -> bytes:
        if m.startswith("status:"):
            parts = m.split(":")
            code = int(parts[1])
            extra = ""
            if len(parts) > 2 and parts[2] == "ra-seconds":
                extra = "Retry-After: 1\r\n"
            elif len(parts) > 2 and parts[2] == "ra-date":
                extra = f"Retry-After: {formatdate(time.time() + 1, usegmt=True)}\r\n"
            return _response(code, f"injected status {code}\n".encode(), "text/plain", extra)
        if m == "html200":
            return _response(200, b"<!doctype html><html><body>Please log in</body></html>", "text/html")
        if m == "truncated":
            return _response(200, b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":')
        if m == "invalid_json":
            return _response(200, b"{status: success, data: ]")
        if m == "status_error_200":
            return _response(200, b'{"status":"error","errorType":"internal","error":"injected failure"}')
        if m == "unknown_result":
            return _response(200, b'{"status":"success","data":{"resultType":"weird","result":42}}')
        if m == "nan_inf":
            return _response(200, json.dumps(PROM_NAN).encode())
        if m == "huge_trace":
            tid = target.split("?")[0].rsplit("/", 1)[-1]
            return _response(200, json.dumps(huge_trace(tid)).encode())
        if m.startswith("flame:"):
            return _response(200, json.dumps(huge_flame(int(m.split(":")[1]))).encode())
        if m == "hostile_trace":
            tid = target.split("?")[0].rsplit("/", 1)[-1]
            body = huge_trace(tid, 12)
            for i, span in enumerate(body["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][1:]):
                span["name"] = HOSTILE[i % len(HOSTILE)]
                span["attributes"] = [
                    {"key": HOSTILE[(i + 1) % len(HOSTILE)], "value": {"stringValue": HOSTILE[(i + 2) % len(HOSTILE)]}}
                ]
            return _response(200, json.dumps(body).encode())
        if m == "loki_huge":
            return _response(200, json.dumps(loki_lines()).encode())
        raise ValueError(m)

    def _forward(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> bytes:
        assert self.upstream, "nothing to forward to"
        req = Request(
            self.upstream + target,
            data=body or None,
            method=method,
            headers={
                k: v for k, v in headers.items() if k in ("content-type", "accept", "x-loki-response-encoding-flags")
            },
        )
        try:
            with urlopen(req, timeout=30) as r:
                return _response(r.status, r.read(), r.headers.get("Content-Type", ""))
        except HTTPError as e:
            return _response(e.code, e.read(), e.headers.get("Content-Type", "") or "text/plain")


def _with_warning(raw: bytes) -> bytes:
    """A forwarded JSON answer with a partial-response warning added, as Thanos and Mimir send it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        data = json.loads(body)
    except ValueError:
        return raw
    if isinstance(data, dict):
        data.setdefault("warnings", []).append("partial response: store 10.0.3.7:10901 unavailable")
    return _response(status, json.dumps(data).encode())


@contextmanager
def fault_server(fault: Fault, upstream: str | None = None) -> Iterator[FaultServer]:
    s = FaultServer(fault, upstream)
    try:
        yield s
    finally:
        s.close()
