"""Provides TraceQL: the escaper (`quote`), attribute names, and the span searches of the triage."""

from __future__ import annotations

import re
from collections.abc import Sequence

from plugintop.errors import QueryValueError
from plugintop.queries._gostring import go_quote, re2_escape
from plugintop.schema import Schema

_UNQUOTED_ATTR = re.compile(r"[^\s{}()=~!<>&|^,\"\\]+")


def quote(value: str) -> str:
    """The one TraceQL string escaper (Go `strconv.Unquote` syntax)."""
    return go_quote(value)


def attribute(scope: str, name: str) -> str:
    """`span.tenant.id`, or `span."a b"` where the name needs quoting (only `\\"` and `\\\\` allowed)."""
    if _UNQUOTED_ATTR.fullmatch(name):
        return f"{scope}.{name}"
    return f'{scope}."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def duration(seconds: float) -> str:
    """A TraceQL duration literal, in whole milliseconds (microseconds below 10 ms)."""
    if seconds < 0.01:
        return f"{max(0, int(seconds * 1e6))}us"
    return f"{int(seconds * 1000)}ms"


class TraceQL:
    """The TraceQL searches of the triage, for one schema."""

    def __init__(self, schema: Schema) -> None:
        self.s = schema

    def tool_name_condition(self, plugin: str, tool: str | None) -> str:
        """`name = "plugin.X.tool.T"`, or a regex over every tool of the plugin."""
        if tool is not None:
            return f"name = {quote(self.s.tool_span_name(plugin, tool))}"
        head, _, tail = self.s.span_name.partition("{tool}")
        pattern = re2_escape(head.replace("{plugin}", plugin)) + ".*" + re2_escape(tail.replace("{plugin}", plugin))
        return f"name =~ {quote(pattern)}"

    def tool_spans(
        self,
        plugin: str,
        tenant: str | None,
        tool: str | None = None,
        *,
        min_duration_s: float | None = None,
        select: Sequence[str] = (),
        failed: bool = False,
        where: Sequence[str] = (),
    ) -> str:
        """The tool spans of a tenant (or the fleet), optionally slower than `min_duration_s`, or failed, and
        matching the conditions `where` (from `attribute_is`)."""
        conds = [self.tool_name_condition(plugin, tool), *where]
        if tenant is not None:
            conds.append(f"{attribute('span', self.s.span_tenant_attr)} = {quote(tenant)}")
        if min_duration_s is not None and min_duration_s > 0:
            conds.append(f"duration > {duration(min_duration_s)}")
        if failed:
            conds.append("status = error")
        q = "{ " + " && ".join(conds) + " }"
        if select:
            q += " | select(" + ", ".join(attribute("span", a) for a in select) + ")"
        return q


def _number(text: str) -> str:
    v = float(text.replace(",", "").strip())  # a band's edge: "1,840", "0.125"
    return f"{v:g}"


def attribute_is(name: str, value: str, numeric: bool = False) -> list[str]:
    """The conditions of a span attribute having `value`, or for a numeric one lying in the band `value`
    (`< 12`, `12–1,840`, `≥ 1,840`, as `analysis.attributes.band` writes them; edges are as rounded there).

    Raises:
        QueryValueError: a band that is none of those forms.
    """
    attr = attribute("span", name)
    if not numeric:
        return [f"{attr} = {quote(value)}"]
    v = value.strip()
    try:
        if v.startswith("<"):
            return [f"{attr} < {_number(v[1:])}"]
        if v.startswith("≥"):
            return [f"{attr} >= {_number(v[1:])}"]
        lo, _, hi = v.partition("–")
        if hi:
            return [f"{attr} >= {_number(lo)}", f"{attr} < {_number(hi)}"]
    except ValueError:
        pass
    raise QueryValueError(f"not a band of {name!r}: {value!r}")


# ----- the explanation of a finding (DESIGN §4.2) --------------------------------------------------
FAILED = "status = error"
NOT_FAILED = "status != error"


def slower_than(seconds: float) -> str:
    """`duration > X`: the slow calls."""
    return f"duration > {duration(seconds)}"


def not_slower_than(seconds: float) -> str:
    """`duration <= X`: every call but the slow ones."""
    return f"duration <= {duration(seconds)}"


def spanset(conditions: Sequence[str]) -> str:
    return "{ " + " && ".join(conditions) + " }"


def tool_filter(schema: Schema, plugin: str, tenant: str | None, tool: str | None, *extra: str) -> list[str]:
    """The conditions of the tool spans of a tenant, with `extra` ones (from `slower_than`, `FAILED`, ...)."""
    conds = [TraceQL(schema).tool_name_condition(plugin, tool)]
    if tenant is not None:
        conds.append(f"{attribute('span', schema.span_tenant_attr)} = {quote(tenant)}")
    return [*conds, *extra]


def tool_spans_where(
    schema: Schema, plugin: str, tenant: str | None, tool: str | None, extra: Sequence[str], select: Sequence[str] = ()
) -> str:
    """The tool spans of a tenant matching `extra` too, with `| select(...)` of these span attributes."""
    q = spanset(tool_filter(schema, plugin, tenant, tool, *extra))
    if select:
        q += " | select(" + ", ".join(attribute("span", a) for a in select) + ")"
    return q


def compare(
    schema: Schema, plugin: str, tenant: str | None, tool: str | None, selection: Sequence[str], top: int
) -> str:
    """TraceQL metrics `compare()`: the tool spans of the tenant, those matching `selection` against the
    rest, the `top` values of every attribute (Tempo ≥ 2.6, `/api/metrics/query_range`)."""
    return f"{spanset(tool_filter(schema, plugin, tenant, tool))} | compare({spanset(selection)}, {int(top)})"
