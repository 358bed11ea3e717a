"""Provides `Asker`: how the triage asks its backends. Each call's query is kept for `?` and the report,
a failure becomes one line per backend (and the rest goes on), and calls still waiting are known by
backend and age (for the report's progress line and its deadline).

Every call has its own time limit inside the triage's deadline: a backend that accepts a connection
and never answers (a hung pod, a stuck proxy) becomes "no answer in 8 s" in the problems, and the
triage goes on without it; it can never leave a verdict waiting, nor one that says "healthy". A call
cancelled while it waited (the deadline passed, the user moved on) is remembered too, so `expire`
names the backends that were still being waited for. An answer that says it is partial (Thanos' and
Mimir's "partial response" warnings) is kept apart in `partial`: a verdict never rests on it alone."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
import time
from collections.abc import Awaitable, Coroutine
from typing import TypeVar

import httpx

from plugintop.analysis.model import BackendProblem, TriageResult
from plugintop.clients._http import one_line
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError
from plugintop.models.prometheus import QueryResult

T = TypeVar("T")
BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")

CALL_LIMIT_S = 30.0
"""A call's own limit when the triage has no deadline (the screen): no pane waits for good."""
MARGIN = 0.15
"""The share of the deadline (at most `MARGIN_MAX_S`) left after a call's limit for the verdict."""
MARGIN_MAX_S = 2.0

PARTIAL = re.compile(
    r"partial|no store ?api|store.{0,40}(unavailable|failed|unreachable)|not all|incomplete|"
    r"timed? ?out|deadline exceeded|unavailable|truncat|limit(ed)? (reached|exceeded)",
    re.IGNORECASE,
)
"""A warning that says the answer lacks data (Thanos, Mimir, Cortex, Loki, Prometheus' own limits),
unlike Prometheus' annotations about the query itself ("PromQL info: metric might not be a counter")."""


def is_partial(warning: str) -> bool:
    """Whether a backend's warning says its answer is missing data."""
    return bool(PARTIAL.search(warning))


class Asker:
    """The backends of one triage, with its bookkeeping."""

    def __init__(
        self, backends: Backends, result: TriageResult, step: float, *, deadline_s: float | None = None
    ) -> None:
        self.backends = backends
        self.result = result
        self.step = step
        self.problems: dict[str, str] = {}
        """Backend → why it could not be asked (set up, failed, not configured, no answer in time)."""
        self.partial: dict[str, str] = {}
        """Backend → the first warning that said its answer was partial."""
        self.started = time.monotonic()
        self.deadline_s = deadline_s
        self.call_limit_s = (
            max(0.5, deadline_s - min(MARGIN_MAX_S, MARGIN * deadline_s)) if deadline_s is not None else CALL_LIMIT_S
        )
        """How long one call may take: inside the deadline with room left for the verdict."""
        self._waiting: dict[int, tuple[str, float]] = {}
        self._abandoned: dict[str, float] = {}
        """Backend → when its oldest call that was cancelled while waiting began."""
        self._hung: set[str] = set()
        """Backends that let a call run out of time and have answered nothing: not waited for again."""
        self._answered: set[str] = set()
        self._ids = itertools.count()
        self._made: set[Coroutine[object, object, object]] = set()
        """The calls handed to `ask` and not started yet (held here, so that one whose phase was cancelled
        first is closed by `close_unstarted`, not dropped unawaited)."""
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
        """Every backend still waiting, or waited for when its call was cancelled, becomes a problem
        (the deadline passed)."""
        for backend in sorted({*self.waiting(), *self._abandoned}):
            self.fail(BackendError(backend, why), backend)

    def internal(self, phase: str, e: BaseException) -> None:
        """An unexpected exception in a phase: one problem, backend "internal", and the triage goes on."""
        text = one_line(f"{phase}: {type(e).__name__}: {e}", 200)
        self.problems.setdefault("internal", text)
        self.result.errors.append(BackendProblem("internal", text))

    def note(self, text: str) -> None:
        """One note for the result, once."""
        if text not in self.result.notes:
            self.result.notes.append(text)

    def elapsed(self) -> float:
        """Seconds since the triage began asking."""
        return time.monotonic() - self.started

    def _limit(self, share: float = 1.0) -> float:
        """Seconds the next call may take: its own limit (× `share`), never past the deadline's margin."""
        limit = self.call_limit_s * share
        if self.deadline_s is None:
            return limit
        return max(0.1, min(limit, self.call_limit_s - self.elapsed()))

    def ask(
        self, backend: str, query: str | None, call: Awaitable[T], *, quiet: bool = False, share: float = 1.0
    ) -> Coroutine[object, object, T | None]:
        """The call's answer, or None when it failed (recorded unless `quiet`; a call that got no answer in
        time is recorded even when quiet: a hung backend is never a detail). `share` of the call limit is
        this call's (a probe that comes before everything else takes less). The call is remembered until
        it starts: a phase cancelled before it ran closes it (`close_unstarted`), never leaves it unawaited."""
        if inspect.iscoroutine(call):
            self._made.add(call)
        return self._ask(backend, query, call, quiet=quiet, share=share)

    def close_unstarted(self) -> None:
        """Closes every call made for this triage that never started (its phase was cancelled first)."""
        for call in self._made:
            if inspect.getcoroutinestate(call) == inspect.CORO_CREATED:
                call.close()
        self._made.clear()

    async def _ask(self, backend: str, query: str | None, call: Awaitable[T], *, quiet: bool, share: float) -> T | None:
        if inspect.iscoroutine(call):
            self._made.discard(call)
        if query:
            self.result.queries.setdefault(backend, []).append(query)
        if backend in self._hung:
            _close(call)
            return None
        key = next(self._ids)
        began = time.monotonic()
        self._waiting[key] = (backend, began)
        limit = self._limit(share)
        try:
            async with asyncio.timeout(limit):
                answer = await call
            self._answered.add(backend)
            return answer
        except TimeoutError:
            self.fail(BackendError(backend, f"no answer in {_seconds(limit)}"), backend)
            if backend not in self._answered:
                self._hung.add(backend)
            return None
        except BackendError as e:
            if not quiet:
                self.fail(e, backend)
            return None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError) as e:
            # what no client should let out (a URL httpx refuses, an answer that broke a decoder): this
            # backend's problem, in one line, and the triage goes on
            self.fail(BackendError(backend, one_line(f"{type(e).__name__}: {e}", 200)), backend)
            return None
        except asyncio.CancelledError:
            self._abandoned[backend] = min(self._abandoned.get(backend, began), began)
            raise
        finally:
            self._waiting.pop(key, None)

    def _note(self, res: QueryResult | None) -> QueryResult | None:
        if res is not None:
            for w in res.warnings:
                if is_partial(w):
                    self.partial.setdefault("prometheus", f"partial answer ({one_line(w, 160)})")
            for w in [*res.warnings, *res.infos][:3]:
                if (note := f"prometheus: {w}") not in self.result.notes:
                    self.result.notes.append(note)
        return res

    async def prom_range(self, q: str, start: float, end: float, step: float | None = None) -> QueryResult | None:
        p = self.backends.prometheus
        if p is None:
            return None
        return self._note(await self.ask("prometheus", q, p.query_range(q, start, end, step or self.step)))

    async def prom(self, q: str, at: float) -> QueryResult | None:
        p = self.backends.prometheus
        if p is None:
            return None
        return self._note(await self.ask("prometheus", q, p.query(q, at)))


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s".replace(".0 s", " s")


def _close(call: Awaitable[object]) -> None:
    """A call not made: its coroutine closed, so it is neither run nor reported as never awaited."""
    close = getattr(call, "close", None)
    if callable(close):
        close()
