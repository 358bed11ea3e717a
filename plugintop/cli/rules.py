"""Provides `plugintop rules`: the recording rules that keep the fleet's questions as cheap with 1,000
tenants as with 10, as a rule group for Prometheus (or Mimir's ruler); `promtool check rules` accepts it."""

from __future__ import annotations

import argparse
import sys

from plugintop.cli.common import load, settled

DESCRIPTION = """\
Print plugintop's recording rules: the fleet summed by plugin, tool, version, le and outcome, and each
tenant's calls, failures, p99, LLM cost and tokens, as 5-minute rates (the fleet's every minute, each
tenant's every 5 minutes). With them loaded, every fleet question of a
triage (the rest of the fleet's p99 and calls, the other tenants that show a finding, the neighbours that
surged) reads a few recorded series instead of every tenant's raw ones; plugintop finds them by itself."""
EPILOG = """\
examples:
  plugintop rules > plugintop-rules.yaml && promtool check rules plugintop-rules.yaml
  plugintop rules --context prod   # the label names of that context's schema
backfill them over past data: promtool tsdb create-blocks-from rules --start ... --url ... plugintop-rules.yaml"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rules", help="print the recording rules for large fleets", description=DESCRIPTION, epilog=EPILOG
    )
    p.add_argument("--context", metavar="NAME", help="a named context of the config file (its label names)")
    p.add_argument("--config", metavar="FILE", help="config file (default $XDG_CONFIG_HOME/plugintop/config.toml)")
    p.set_defaults(run=run, plugin=None, tenant=None, p99_target=None)


def run(ns: argparse.Namespace) -> int:
    from plugintop.queries.promql import PromQL
    from plugintop.queries.recorded import Recorded
    from plugintop.report.alert import yaml_string

    recorded = Recorded(PromQL(load(ns, "rules", target=False).context.telemetry))
    settled()
    out = ["groups:"]
    for group in recorded.groups():
        out += [f"  - name: {yaml_string(group.name)}", f"    interval: {yaml_string(group.interval)}", "    rules:"]
        for rule in group.rules:
            out += [f"      - record: {yaml_string(rule.record)}", f"        expr: {yaml_string(rule.expr)}"]
    sys.stdout.write("\n".join(out) + "\n")
    return 0
