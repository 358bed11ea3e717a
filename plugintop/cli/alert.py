"""Provides `plugintop alert draft`: an alerting rule for the platform's `custom-alerts.yaml` from a signal
(p99, failure_ratio, cost_per_call, or one of the plugin's business metrics) and a condition."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from plugintop.cli.common import add_backends, demo_stack, load, settled

if TYPE_CHECKING:
    from plugintop.config.context import Context

DESCRIPTION = """\
Draft a Prometheus alerting rule (YAML for custom-alerts.yaml, or JSON) from a signal and a condition.
SIGNAL: p99, failure_ratio, cost_per_call, or a business metric of the plugin (its full name).
CONDITION: '> 2s', '< 0.05', '> 5%', 'drops 50%', 'rises 100%' (against --baseline before), 'absent'."""
EPILOG = """\
examples:
  plugintop alert draft --plugin recommender --tenant acme --signal p99 --when '> 2s' --for 10m
  plugintop alert draft --plugin recommender --signal recommender_courses_recommended_total --when 'drops 50%' --for 15m
exit status: 0 drafted, 1 drafted but the plugin (or the tenant) has no series in the last day (a rule that
could never fire: the warning names the plugins or tenants that have data), 2 usage (an unknown signal, an
empty condition, a duration that doesn't parse), 3 Prometheus could not be asked for the plugin's business
metrics. When Prometheus cannot be asked whether the plugin has series (or none is configured), the rule is
drafted unchecked (0)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("alert", help="draft an alerting rule", description=DESCRIPTION)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = actions.add_parser("draft", help="draft an alerting rule", description=DESCRIPTION, epilog=EPILOG)
    d.add_argument("--plugin", metavar="X", help="the plugin")
    d.add_argument("--tenant", metavar="Y", help="one tenant (default: every tenant, the tenant a label)")
    d.add_argument("--signal", metavar="SIGNAL", required=True)
    d.add_argument("--when", metavar="CONDITION", required=True)
    d.add_argument("--for", dest="duration", metavar="DURATION", default="10m", help="how long before it fires")
    d.add_argument("--baseline", metavar="DURATION", default="1d", help="drops/rises against this long before")
    d.add_argument("--format", choices=["yaml", "json"], default="yaml")
    add_backends(d)
    d.set_defaults(run=run, since=None, start=None, end=None, p99_target=None)


def run(ns: argparse.Namespace) -> int:
    import difflib

    from plugintop.errors import UsageError
    from plugintop.queries import alerts
    from plugintop.report import alert as out
    from plugintop.textsafe import inert
    from plugintop.timerange import format_duration, parse_duration, system_clock

    for_s = parse_duration(ns.duration)
    baseline = format_duration(parse_duration(ns.baseline))
    builtin = ns.signal in alerts.BUILTIN
    cond = alerts.parse_condition(ns.when, ns.signal)

    async def business_kinds(ctx: Context) -> dict[str, str]:
        """The plugin's business metrics seen in the last day."""
        from plugintop.connect.backends import open_backends
        from plugintop.queries.promql import PromQL
        from plugintop.triage.business import business_names

        now = system_clock()
        async with await open_backends(ctx, only=("prometheus",)) as backends:
            assert backends.prometheus is not None
            promql = PromQL(ctx.telemetry)
            return await business_names(backends.prometheus, promql, ns.plugin, ns.tenant, now - 86400, now)

    async def unseen(ctx: Context) -> str | None:
        """Why the rule could never fire (the plugin or the tenant has no series in the last day), else None;
        a warning when Prometheus cannot be asked."""
        from plugintop.connect.backends import open_backends
        from plugintop.errors import BackendError, ConfigError
        from plugintop.queries.promql import PromQL, Scope

        s, now = ctx.telemetry, system_clock()
        count = PromQL(s).count(Scope(ns.plugin))
        try:
            async with await open_backends(ctx, only=("prometheus",)) as backends:
                assert backends.prometheus is not None
                tenants = await backends.prometheus.label_values(s.tenant_label, now - 86400, now, [count])
                if not tenants:
                    plugins = await backends.prometheus.label_values(
                        s.plugin_label, now - 86400, now, [f"{s.duration_metric}_count"]
                    )
        except ConfigError:
            return None  # no Prometheus configured: drafted offline, nothing to check against
        except BackendError as e:
            print(inert(f"plugintop: warning: the rule is not checked against Prometheus: {e}", 300), file=sys.stderr)
            return None
        if not tenants:
            close = difflib.get_close_matches(ns.plugin, plugins, n=3, cutoff=0.5)
            have = (
                f"did you mean {', '.join(close)}?"
                if close
                else f"plugins with data: {', '.join(plugins[:12]) or 'none'}"
            )
            return f"plugin {ns.plugin!r} has no series in the last day: the rule could never fire ({have})"
        if ns.tenant is not None and ns.tenant not in tenants:
            close = difflib.get_close_matches(ns.tenant, tenants, n=3, cutoff=0.5)
            have = f"did you mean {', '.join(close)}?" if close else f"tenants with data: {', '.join(tenants[:12])}"
            return (
                f"tenant {ns.tenant!r} of {ns.plugin} has no series in the last day: the rule could never fire ({have})"
            )
        return None

    async def work() -> int:
        async with demo_stack(ns):
            if not ns.plugin:
                raise UsageError("alert draft needs --plugin (or --demo)")
            loaded = load(ns, "alert draft", target=False)
            kind = None
            if not builtin:
                kinds = await business_kinds(loaded.context)
                kind = kinds.get(ns.signal)
                if kind is None:
                    close = difflib.get_close_matches(ns.signal, [*alerts.BUILTIN, *kinds], n=3, cutoff=0.5)
                    hint = f" (close: {', '.join(close)})" if close else f" ({len(kinds)} business metrics found)"
                    raise UsageError(
                        f"unknown signal {ns.signal!r}: not p99, failure_ratio, cost_per_call, nor a business "
                        f"metric of {ns.plugin}{hint}"
                    )
            rule = alerts.draft(loaded.context.telemetry, ns.plugin, ns.tenant, ns.signal, cond, for_s, kind, baseline)
            never = await unseen(loaded.context)
        group = f"plugintop-{ns.plugin}"
        sys.stdout.write(out.to_json(group, [rule]) if ns.format == "json" else out.to_yaml(group, [rule]))
        if never is not None:
            print(inert(f"plugintop: warning: {never}", 300), file=sys.stderr)
            return 1
        return 0

    settled()
    return asyncio.run(work())
