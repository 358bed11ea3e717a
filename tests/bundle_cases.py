"""The public scenarios (tests/scenarios_public, a copy of the shared sample) as bundle cases: what each
triage is asked, and the part of its result a replay must give again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugintop.analysis.model import TriageResult
from plugintop.timerange import TimeRange, parse_duration, to_rfc3339
from plugintop.triage import TriageRequest

HERE = Path(__file__).parent
PUBLIC = HERE / "scenarios_public"
OUT = HERE / "bundles"
NOW = 1_796_000_000.0
"""The moment every public scenario is recorded at (2026-11-30)."""


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    plugin: str
    tenant: str
    since: str
    broken: str | None = None
    """A backend down while it was recorded."""

    def request(self) -> TriageRequest:
        return TriageRequest(
            plugin=self.plugin, tenant=self.tenant, range=TimeRange(NOW - parse_duration(self.since), NOW)
        )


def _cases() -> list[Case]:
    out = []
    for d in (PUBLIC, PUBLIC / "v3"):
        for c in json.loads((d / "expected.json").read_text()):
            name = c.get("name") or f"{c['scenario'].removesuffix('.toml')}-{c['tenant']}"
            out.append(Case(name, d / c["scenario"], c["plugin"], c["tenant"], c["since"], c.get("break")))
    return out


CASES = _cases()


def summary(r: TriageResult) -> dict[str, Any]:
    """What `bundle.sh` compares: the verdict, every finding's kind, tool and window, each tool's p99."""
    v = r.verdict
    return {
        "state": v.state if v else None,
        "cause": v.cause if v else None,
        "tool": v.tool if v else None,
        "findings": [[f.kind, f.tool, to_rfc3339(f.start), to_rfc3339(f.end)] for f in r.findings],
        "p99_s": {t.tool: None if t.p99_s is None else round(t.p99_s, 6) for t in r.tools},
    }
