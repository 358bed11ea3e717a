"""Access to the recorded responses in tests/recorded (the ground truth the clients must parse: the API's
documented bodies, and in `real/` answers recorded from real servers, each with its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.servers import Answer, Backend

FIXTURES = Path(__file__).resolve().parent / "recorded"
REAL = FIXTURES / "real"


def need_fixtures() -> None:
    assert FIXTURES.is_dir(), f"recorded fixtures missing at {FIXTURES}"


def doc(name: str) -> Any:
    """A documented/captured body from fixtures/NAME.json."""
    need_fixtures()
    return json.loads((FIXTURES / f"{name}.json").read_text())


def real(name: str) -> dict[str, Any]:
    """A recorded exchange from fixtures/real/NAME.json: request, status, content_type, body."""
    need_fixtures()
    data: dict[str, Any] = json.loads((REAL / f"{name}.json").read_text())
    return data


def real_names(prefix: str) -> list[str]:
    if not REAL.is_dir():
        return []
    return sorted(p.stem for p in REAL.glob(f"{prefix}*.json"))


def answer_of(rec: dict[str, Any]) -> Answer:
    body = rec["body"]
    ctype = rec.get("content_type") or ""
    if isinstance(body, str):
        return Answer(rec["status"], body.encode(), ctype)
    return Answer(rec["status"], body, ctype or "application/json")


def replay(backend: Backend, rec: dict[str, Any]) -> None:
    """Routes the recorded request's method and path to the recorded answer."""
    req = rec["request"]
    backend.route(req["method"], req["path"], answer_of(rec))


def params(rec: dict[str, Any]) -> dict[str, str]:
    return dict(rec["request"]["params"])
