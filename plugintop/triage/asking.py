"""Provides `Asker`: how the triage asks its backends. Each call's query is kept for `?` and the report,
a failure becomes one line per backend (and the rest goes on), and calls still waiting are known by
backend and age (for the report's progress line and its deadline)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable
from typing import TypeVar

from plugintop.analysis.model import BackendProblem, TriageResult
from plugintop.errors import BackendError
from plugintop.models.prometheus import QueryResult
from plugintop.triage.connections import Backends

T = TypeVar("T")
BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")


class Asker:
    """The backends of one triage, with its bookkeeping."""

    def __init__(self, backends: Backends, result: TriageResult, step: float) -> None:
        self.b = backends
        self.result = result
        self.step = step
        self.problems: dict[str, str] = {}
        """Backend → why it could not be asked (set up, failed, not configured, no answer in time)."""
        self._waiting: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        for name, err in backends.setup_errors.items():
            self.fail(err, name)
        for name in BACKENDS:
            if getattr(backends, name) is None and name not in self.problems:
                self.problems[name] = "not configured"

    def fail(self, e: BackendError, backend: str | None = None) -> None:
        name = backend or e.backend
        if name not in self.problems:
            self.problems[name] = e.message
        if not any(p.backend == name for p in self.result.errors):
            self.result.errors.append(BackendProblem(name, e.message))

    def waiting(self) -> dict[str, float]:
        """Backend → seconds its oldest unanswered call has waited."""
        now = time.monotonic()
        out: dict[str, float] = {}
        for backend, since in self._waiting.values():
            out[backend] = max(out.get(backend, 0.0), now - since)
        return out

    def expire(self, why: str) -> None:
        """Every backend still waiting becomes a problem (the deadline passed)."""
        for backend in sorted(self.waiting()):
            self.problems.setdefault(backend, why)
            if not any(p.backend == backend for p in self.result.errors):
                self.result.errors.append(BackendProblem(backend, why))

    async def ask(self, backend: str, query: str | None, call: Awaitable[T], *, quiet: bool = False) -> T | None:
        """The call's answer, or None when it failed (recorded unless `quiet`)."""
        if query:
            self.result.queries.setdefault(backend, []).append(query)
        key = next(self._ids)
        self._waiting[key] = (backend, time.monotonic())
        try:
            return await call
        except BackendError as e:
            if not quiet:
                self.fail(e, backend)
            return None
        finally:
            self._waiting.pop(key, None)

    def _note(self, res: QueryResult | None) -> QueryResult | None:
        if res is not None:
            for w in [*res.warnings, *res.infos][:3]:
                if (note := f"prometheus: {w}") not in self.result.notes:
                    self.result.notes.append(note)
        return res

    async def prom_range(self, q: str, start: float, end: float, step: float | None = None) -> QueryResult | None:
        p = self.b.prometheus
        if p is None:
            return None
        return self._note(await self.ask("prometheus", q, p.query_range(q, start, end, step or self.step)))

    async def prom(self, q: str, at: float) -> QueryResult | None:
        p = self.b.prometheus
        if p is None:
            return None
        return self._note(await self.ask("prometheus", q, p.query(q, at)))
