"""Recorded answers as tests: the bundle of every public scenario (tests/bundles, recorded by
scripts/record_bundles.py) replays with no network to what the live triage said when it was recorded. A
change that alters a verdict, a finding or a percentile on recorded data fails here."""

from __future__ import annotations

import asyncio
import json

import pytest

from plugintop.handoff.bundle import load
from plugintop.handoff.replay import replay
from tests.bundle_cases import CASES, OUT, summary

EXPECTED = json.loads((OUT / "expected.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_bundle_replays_to_what_was_recorded(case: object) -> None:
    name = case.name  # type: ignore[attr-defined]
    bundle = load(OUT / f"{name}.bundle")
    result, log = asyncio.run(replay(bundle))
    assert summary(result) == EXPECTED[name]
    missing = [r.target for r in log if r.error == "not in the bundle"]
    assert not missing, f"the replay asked for what the bundle does not hold: {missing[:3]}"


def test_every_public_scenario_has_its_bundle() -> None:
    assert sorted(EXPECTED) == sorted(c.name for c in CASES)
