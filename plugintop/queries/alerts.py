"""Provides alerting-rule drafts: a signal (p99, failure ratio, cost per call, or a business metric) and a
condition (a threshold, a drop or rise against a baseline, or absence) made a Prometheus alerting rule,
ready for the platform's `custom-alerts.yaml`. Every value in a query goes through the PromQL escaper."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from plugintop.errors import UsageError
from plugintop.queries.promql import Matcher, PromQL, Scope, selector
from plugintop.schema import Schema
from plugintop.timerange import format_duration, parse_duration

BUILTIN = {
    "p99": "p99 latency",
    "failure_ratio": "failure ratio",
    "cost_per_call": "LLM cost per call",
}
RATE_WINDOW = "5m"


@dataclass(frozen=True, slots=True)
class Condition:
    """`> 2s`, `< 0.05`, `> 5%`, `drops 50%`, `rises 100%` or `absent`."""

    kind: str
    """`above`, `below`, `drops`, `rises` or `absent`."""
    value: float = 0.0
    """The threshold (seconds for a duration), or the change as a fraction (0.5 for 50 %)."""
    text: str = ""


def parse_condition(text: str, signal: str) -> Condition:
    """Reads `--when`; the threshold of `p99` may be a duration (`2s`, `800ms`), any may be a percentage.

    Raises:
        UsageError: empty or not one of the forms, in one line naming them.
    """
    t = " ".join(text.split()).lower()
    forms = "'> 2s', '< 0.05', '> 5%', 'drops 50%', 'rises 100%' or 'absent'"
    if not t:
        raise UsageError(f"--when is empty: give {forms}")
    if t == "absent":
        return Condition("absent", text=t)
    m = re.fullmatch(r"(drops|rises)\s+(?:by\s+)?([0-9.]+)\s*%", t)
    if m:
        pct = float(m.group(2)) / 100
        if m.group(1) == "drops" and not 0 < pct < 1:
            raise UsageError(f"--when {text!r}: a drop is between 0 % and 100 %")
        if pct <= 0:
            raise UsageError(f"--when {text!r}: a rise is more than 0 %")
        return Condition(m.group(1), pct, t)
    m = re.fullmatch(r"(>|<|>=|<=)\s*([0-9.]+(?:e-?[0-9]+)?)\s*(%|ms|s|m|h)?", t)
    if not m:
        raise UsageError(f"--when {text!r} is not a condition: give {forms}")
    number, unit = float(m.group(2)), m.group(3)
    if unit == "%":
        number /= 100
    elif unit is not None:
        if signal != "p99":
            raise UsageError(f"--when {text!r}: only p99 is a duration")
        number = parse_duration(f"{m.group(2)}{unit}")
    return Condition("above" if m.group(1).startswith(">") else "below", number, t)


def literal(text: str) -> str:
    """`text` as literal text inside Prometheus' Go templates (labels and annotations are templates): each
    `{{` and `}}` written as a template that prints it, so a name can't run template code."""
    return re.sub(r"\{\{|\}\}", lambda m: '{{ "' + m.group(0) + '" }}', text)


def _shell(word: str) -> str:
    """A word for the `triage` command line, quoted for a POSIX shell when it needs to be."""
    return shlex.quote(word)


def _camel(*words: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", " ".join(words))
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


@dataclass(frozen=True, slots=True)
class Rule:
    """One alerting rule (the YAML's keys)."""

    alert: str
    expr: str
    duration: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def draft(
    schema: Schema,
    plugin: str,
    tenant: str | None,
    signal: str,
    cond: Condition,
    for_s: float,
    business_kind: str | None = None,
    baseline: str = "1d",
) -> Rule:
    """The rule for `signal` under `cond`, firing after `for_s` seconds; `business_kind` (`counter` or
    `gauge`) when the signal is a business metric's name; `baseline` the offset a drop or rise is measured
    against. Per tenant when `tenant` is None (the tenant is a label of the alert)."""
    p = PromQL(schema)
    scope = Scope(plugin, tenant)
    by_tenant: tuple[str, ...] = () if tenant is not None else (schema.tenant_label,)
    tenant_label = schema.tenant_label
    if signal == "p99":
        expr = p.quantile(0.99, scope, RATE_WINDOW, ("tool", *by_tenant))
        presence = p.count(scope)
    elif signal == "failure_ratio":
        by = ("tool", *by_tenant)
        expr = f"({p.failure_rate(scope, RATE_WINDOW, by)}) / ({p.request_rate(scope, RATE_WINDOW, by)})"
        presence = p.count(scope)
    elif signal == "cost_per_call":
        by = ("tool", *by_tenant)
        expr = f"({p.cost_rate(scope, RATE_WINDOW, by)}) / ({p.request_rate(scope, RATE_WINDOW, by)})"
        presence = p.count(scope)
    else:
        tenant_label = schema.business_tenant_label
        matchers = [Matcher(tenant_label, "=", tenant)] if tenant is not None else []
        presence = selector(signal, matchers)
        by_b = f" by ({tenant_label})" if tenant is None else ""
        if business_kind == "counter":
            expr = f"sum{by_b} (rate({presence}[10m]))"
        else:
            expr = f"avg{by_b} ({presence})"
    what = literal(BUILTIN.get(signal, signal))
    short = signal.removeprefix(schema.business_prefix_of(plugin))  # the rule's name says the plugin once
    who = f"tenant {literal(tenant)}" if tenant is not None else f"tenant {{{{ $labels.{tenant_label} }}}}"
    dur = format_duration(for_s)
    if cond.kind == "absent":
        expr = f"absent_over_time({presence}[{dur}])"
        name, said = _camel(plugin, short, "absent"), f"no {what} data for {dur}"
    elif cond.kind in ("above", "below"):
        op = ">" if cond.kind == "above" else "<"
        expr = f"{expr} {op} {cond.value:g}"
        shown = format_duration(cond.value) if signal == "p99" else f"{cond.value:g}"
        name = _camel(plugin, short, "high" if op == ">" else "low")
        said = f"{what} {'above' if op == '>' else 'below'} {shown}"
    else:
        factor = 1 - cond.value if cond.kind == "drops" else 1 + cond.value
        op = "<" if cond.kind == "drops" else ">"
        # the baseline: the signal's average over `baseline` before the `for` stretch (a subquery, since an
        # offset can't follow an expression)
        before = f"avg_over_time(({expr})[{baseline}:1m] offset {dur})"
        expr = f"({expr}) {op} {factor:g} * {before} and {before} > 0"
        name = _camel(plugin, short, cond.kind)
        said = (
            f"{what} {'fell' if cond.kind == 'drops' else 'rose'} by {cond.value * 100:g} % or more against its "
            f"average over the {baseline} before"
        )
    triage_tenant = literal(_shell(tenant)) if tenant is not None else f"{{{{ $labels.{tenant_label} }}}}"
    labels = {"severity": "warning", schema.plugin_label: literal(plugin)}
    if tenant is not None:
        labels[tenant_label] = literal(tenant)
    return Rule(
        alert=name or "PluginAlert",
        expr=expr,
        duration=dur,
        labels=labels,
        annotations={
            "summary": f"{literal(plugin)}: {said} for {who}",
            "description": (
                f"{what} of plugin {literal(plugin)} for {who}: {said}, for {dur} or longer "
                f"(drafted by plugintop from '--when {literal(cond.text)}')."
            ),
            "triage": f"plugintop report --plugin {literal(_shell(plugin))} --tenant {triage_tenant} --since 1h",
        },
    )
