"""PyroscopeClient against every recorded Pyroscope response, over a real socket."""

from __future__ import annotations

import json

import httpx
import pytest

from plugintop.clients.pyroscope import PyroscopeClient, parse_flamegraph
from plugintop.errors import BadQuery, BadResponse
from tests.fixtures import doc, params, real, replay
from tests.servers import Answer, Backend

PT = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


async def test_select_merge_stacktraces_real(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("pyroscope_select_merge_stacktraces")
    replay(backend, rec)
    body = rec["request"]["body"]
    fg = await PyroscopeClient(http).flamegraph(
        PT, body["labelSelector"], body["start"] / 1000, body["end"] / 1000, max_nodes=body["maxNodes"]
    )
    assert fg.names[0] == "total" and fg.total == int(rec["body"]["flamegraph"]["total"])
    assert len(fg.levels) == len(rec["body"]["flamegraph"]["levels"])
    assert json.loads(backend.requests[-1].body) == body


async def test_render_and_diff_real(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("pyroscope_render")
    replay(backend, rec)
    p = params(rec)
    fg, tl = await PyroscopeClient(http).render(p["query"], int(p["from"]), int(p["until"]), int(p["maxNodes"]))
    assert fg.total > 0 and tl is not None and tl.step == 10 and tl.samples
    assert dict(backend.requests[-1].params) == p
    rec = real("pyroscope_render_diff")
    replay(backend, rec)
    p = params(rec)
    d = await PyroscopeClient(http).diff(
        p["leftQuery"], (int(p["leftFrom"]), int(p["leftUntil"])), (int(p["rightFrom"]), int(p["rightUntil"])), 512
    )
    assert d.diff and d.left_ticks > 0 and d.right_ticks > 0 and all(len(lv) % 7 == 0 for lv in d.levels)
    assert dict(backend.requests[-1].params) == p


async def test_types_labels_buildinfo_real(backend: Backend, http: httpx.AsyncClient) -> None:
    for n in ("pyroscope_profile_types_range", "pyroscope_label_values_service_name", "pyroscope_buildinfo"):
        replay(backend, real(n))
    c = PyroscopeClient(http)
    assert [t.id for t in await c.profile_types(1795679385, 1795700985)] == [PT]
    assert "recommender" in await c.label_values("service_name", 1795697385, 1795700985)
    assert (await c.buildinfo()).version.startswith("v1.1")


async def test_errors_real(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("pyroscope_error_connect_bad_selector"))
    with pytest.raises(BadQuery, match="unterminated quoted string"):
        await PyroscopeClient(http).flamegraph(PT, '{service_name="', 1, 2)
    replay(backend, real("pyroscope_render_error_bad_query"))
    with pytest.raises(BadQuery, match="profile-type"):
        await PyroscopeClient(http).render('{service_name="recommender"}', 1, 2)


async def test_empty_answer_is_an_empty_graph(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("POST", "/querier.v1.QuerierService/SelectMergeStacktraces", Answer(200, {}))
    fg = await PyroscopeClient(http).flamegraph(PT, "{}", 1, 2)
    assert fg.total == 0 and fg.levels == []


def test_documented_shapes() -> None:
    assert parse_flamegraph(doc("pyroscope_select_merge_stacktraces")["flamegraph"]).total > 0
    assert parse_flamegraph(doc("pyroscope_render")["flamebearer"]).total > 0
    d = doc("pyroscope_render_diff")
    assert parse_flamegraph(dict(d["flamebearer"], leftTicks=d["leftTicks"]), diff=True).left_ticks > 0


def test_garbage_flamegraphs() -> None:
    bad: object
    for bad in (
        [],
        {"names": "x"},
        {"names": ["total"], "levels": [[0, 1, 0]]},
        {"names": ["total"], "levels": [[0, 1, 0, 5]]},
        {"names": ["t"], "levels": [["a", 1, 0, 0]]},
    ):
        with pytest.raises(BadResponse):
            parse_flamegraph(bad)
