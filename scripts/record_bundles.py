"""Records the bundles of the public scenarios (tests/scenarios_public) that the suite replays
(tests/test_bundle_replays.py): each scenario served by the demo at a fixed moment, triaged, saved as
tests/bundles/NAME.bundle, and what the live triage said written to tests/bundles/expected.json.

Run it again (`.venv/bin/python scripts/record_bundles.py`) when a change to the triage's queries is meant:
a replay that then differs from its recording is the change showing on recorded data."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bundle_cases import CASES, NOW, OUT, summary  # noqa: E402

from plugintop.config.context import context_from  # noqa: E402
from plugintop.demo.scenario import load_scenario  # noqa: E402
from plugintop.demo.stack import DemoStack  # noqa: E402
from plugintop.handoff.bundle import save  # noqa: E402
from plugintop.handoff.replay import save as recorded  # noqa: E402

CLOSED = "http://127.0.0.1:9"
"""Where a backend down while recording is (the discard port: nothing listens on loopback)."""


def main() -> None:
    expected = {}
    for case in CASES:
        sc = load_scenario(str(case.path))
        with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
            urls = {k: CLOSED if k == case.broken else u for k, u in st.urls.items()}
            ctx = context_from({k: {"url": u} for k, u in urls.items()})
            bundle, result = asyncio.run(recorded(ctx, case.request(), NOW))
        size = save(OUT / f"{case.name}.bundle", bundle)
        expected[case.name] = summary(result)
        print(f"{case.name}: {size / 1e3:.0f} kB, {bundle.manifest.requests} answers, {expected[case.name]['state']}")
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
