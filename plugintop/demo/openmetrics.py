"""Provides the demo's metrics as OpenMetrics text: a timestamped dump for `promtool tsdb
create-blocks-from openmetrics` (backfill), and a live exposition with exemplars for a scrape."""

from __future__ import annotations

from collections.abc import Iterator

from plugintop.demo.gofmt import go_float
from plugintop.demo.ids import span_id
from plugintop.demo.metrics import UP, MetricStore

_SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def _family(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _labels(labels: dict[str, str]) -> str:
    parts = []
    for k, v in labels.items():
        if k == "__name__":
            continue
        esc = v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{k}="{esc}"')
    return "{" + ",".join(parts) + "}"


def _types(store: MetricStore) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in store.series:
        name = s.labels["__name__"]
        out[_family(name)] = "counter" if name.endswith("_total") else "histogram"
    return out


def backfill(store: MetricStore, start: float, end: float) -> Iterator[str]:
    """Lines of OpenMetrics text with a timestamp on every sample in [start, end], ending with `# EOF`."""
    types = _types(store)
    by_family: dict[str, list[int]] = {}
    for i, s in enumerate(store.series):
        by_family.setdefault(_family(s.labels["__name__"]), []).append(i)
    t0 = store.t0
    for family, idx in by_family.items():
        yield f"# TYPE {family} {types[family]}\n"
        for i in idx:
            s = store.series[i]
            if s.column == UP:  # (Prometheus' own series, not the plugin's)
                continue
            rows = store.rows(*s.pair)
            head = f"{s.labels['__name__']}{_labels(s.labels)} "
            for j, row in enumerate(rows):
                t = t0 + j * store.world.slot_s
                if start <= t <= end:
                    yield f"{head}{go_float(row[s.column])} {t:.3f}\n"
    yield "# EOF\n"


def exposition(store: MetricStore) -> str:
    """The current values, the way a client library exposes them: histogram buckets carry the
    latest call that fell in them as an exemplar (`trace_id`, `span_id`)."""
    w = store.world
    k = w.last_slot()
    latest: dict[tuple[int, int, str, str, str], tuple[str, float, float]] = {}
    vl = store.schema.version_label
    for ti in range(len(w.scenario.tenants)):
        for tj in range(len(w.scenario.tools)):
            for c in w.calls(ti, tj, k):
                bound = next(b for b in w.buckets if c.duration <= b)
                key = (ti, tj, c.version, "success" if c.ok else "error", go_float(bound))
                latest[key] = (c.trace_id, round(c.duration, 6), c.end)
    types = _types(store)
    out: list[str] = []
    done: set[str] = set()
    for s in store.series:
        if s.column == UP:
            continue
        name = s.labels["__name__"]
        family = _family(name)
        if family not in done:
            done.add(family)
            out.append(f"# TYPE {family} {types[family]}")
        rows = store.rows(*s.pair)
        if not rows:
            continue
        line = f"{name}{_labels(s.labels)} {go_float(rows[-1][s.column])}"
        le = s.labels.get("le")
        ex = latest.get((*s.pair[:2], s.labels.get(vl, ""), s.labels.get("outcome", ""), le)) if le else None
        if ex is not None:
            tid, value, ts = ex
            line += f' # {{trace_id="{tid}",span_id="{span_id(tid, 0)}"}} {go_float(value)} {ts:.3f}'
        out.append(line)
    out.append("# EOF")
    return "\n".join(out) + "\n"
