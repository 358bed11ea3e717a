"""Provides the equivalent command lines of the triage's queries (`promtool`, `logcli`, `tempo-cli`,
`profilecli`) and Grafana Explore links: shared by the report and the screen's help. Every value in a
command line is `shlex.quote`d (queries hold tenant names and label values, the trace id came from a
backend)."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote, urlencode

from plugintop.analysis.model import TriageResult
from plugintop.querylog import Exchange
from plugintop.timerange import to_rfc3339


def commands(r: TriageResult, urls: dict[str, str]) -> list[str]:
    """The equivalent `promtool` / `logcli` / `tempo-cli` / `profilecli` commands of the queries."""
    q = shlex.quote
    start, end = q(to_rfc3339(r.start)), q(to_rfc3339(r.end))
    out = []
    for query in r.queries.get("prometheus", [])[:3]:
        out.append(
            f"promtool query range --start={start} --end={end} --step=60s "
            f"{q(urls.get('prometheus', 'http://PROMETHEUS'))} {q(query)}"
        )
    for query in r.queries.get("loki", [])[:2]:
        out.append(
            f"logcli query --addr={q(urls.get('loki', 'http://LOKI'))} --from={start} --to={end} --limit=100 {q(query)}"
        )
    tempo = urls.get("tempo", "http://TEMPO").split("://", 1)[-1]
    for query in r.queries.get("tempo", [])[:1]:
        out.append(f"tempo-cli query api search {q(tempo)} {q(query)} {start} {end}")
    if r.trace:
        out.append(f"tempo-cli query api trace-id {q(tempo)} {q(r.trace.trace_id)}")
    for query in r.queries.get("pyroscope", [])[:1]:
        brace = query.find("{")
        out.append(
            f"profilecli query merge --url={q(urls.get('pyroscope', 'http://PYROSCOPE'))} "
            f"--profile-type={q(query[:brace])} --query={q(query[brace:])} --from={start} --to={end}"
        )
    return out


def _seconds(v: str) -> float | None:
    """A time parameter as epoch seconds (Prometheus' seconds, Loki's nanoseconds, Tempo's seconds)."""
    try:
        x = float(v)
    except ValueError:
        return None
    return x / 1e9 if x > 1e12 else x


def as_command(row: Exchange, base_url: str) -> str:
    """The shell command that asks the same as `row`: `promtool` for a Prometheus query, `logcli` for a Loki
    query, `tempo-cli` for a trace by id, else `curl`. `base_url` is the backend's (redacted) URL; no
    credential is ever written (set the backend's token yourself)."""
    q = shlex.quote
    base = base_url.split(" (", 1)[0].rstrip("/") or f"http://{row.backend.upper()}"
    p = dict(row.query)
    query = p.get("query", "")
    start, end = _seconds(p.get("start", "")), _seconds(p.get("end", ""))
    if row.backend == "prometheus" and row.path.endswith("/api/v1/query_range") and query and start and end:
        return (
            f"promtool query range --start={q(to_rfc3339(start))} --end={q(to_rfc3339(end))} "
            f"--step={q(p.get('step', '60') + 's')} {q(base)} {q(query)}"
        )
    if row.backend == "prometheus" and row.path.endswith("/api/v1/query") and query:
        at = _seconds(p.get("time", ""))
        return f"promtool query instant {'--time=' + q(to_rfc3339(at)) + ' ' if at else ''}{q(base)} {q(query)}"
    if row.backend == "loki" and row.path.endswith("/loki/api/v1/query_range") and query and start and end:
        forward = " --forward" if p.get("direction") == "forward" else ""
        return (
            f"logcli query --addr={q(base)} --from={q(to_rfc3339(start))} --to={q(to_rfc3339(end))} "
            f"--limit={q(p.get('limit', '100'))}{forward} {q(query)}"
        )
    if row.backend == "tempo" and "/traces/" in row.path:
        return f"tempo-cli query api trace-id {q(base.split('://', 1)[-1])} {q(row.path.rsplit('/', 1)[-1])}"
    url = q(base + row.path)
    if row.method == "GET":
        data = "".join(f" --data-urlencode {q(f'{k}={v}')}" for k, v in row.query)
        return f"curl -sG {url}{data}"
    body = f" -H 'Content-Type: application/json' --data {q(row.body)}" if row.body else ""
    return f"curl -s -X {q(row.method)} {url}{body}"


def dashboard_link(grafana: str, uid: str, plugin: str, tenant: str, start: float, end: float) -> str:
    """The platform's "Plugin Overview" dashboard filtered by plugin and tenant, for [start, end]."""
    params = urlencode({"var-plugin": plugin, "var-tenant": tenant, "from": int(start * 1000), "to": int(end * 1000)})
    return f"{grafana.rstrip('/')}/d/{quote(uid, safe='')}?{params}"


def explore_link(grafana: str, query: str, start: float, end: float) -> str:
    """A Grafana Explore link (the `left` form every Grafana version redirects)."""
    state = {
        "queries": [{"refId": "A", "expr": query}],
        "range": {"from": str(int(start * 1000)), "to": str(int(end * 1000))},
    }
    return f"{grafana.rstrip('/')}/explore?left={quote(json.dumps(state, separators=(',', ':')))}"
