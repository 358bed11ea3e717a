"""Provides LogQL: the escaper (`quote`), the tenant's stream selector and the log queries of the
triage and the tail."""

from __future__ import annotations

import re
from collections.abc import Sequence

from plugintop.queries._gostring import go_quote, re2_escape
from plugintop.queries.promql import label_name
from plugintop.schema import Schema


def quote(value: str) -> str:
    """The one LogQL string escaper (LogQL unquotes like PromQL: Go's `strconv.Unquote`)."""
    return go_quote(value)


def json_label(field: str) -> str:
    """The label Loki's `| json` makes of a JSON field (`error.type` of nested objects: `error_type`):
    every character outside `[A-Za-z0-9_]` becomes `_`, and a leading digit gets a `_` before it."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", field)
    return f"_{name}" if name[:1].isdigit() else name or "_"


class LogQL:
    """The LogQL queries of the triage and the tail, for one schema."""

    def __init__(self, schema: Schema) -> None:
        self.s = schema

    def selector(self, plugin: str, tenant: str) -> str:
        """`{plugin="X", tenant_id="Y"}`."""
        return (
            f"{{{label_name(self.s.log_plugin_label)}={quote(plugin)}, "
            f"{label_name(self.s.log_tenant_label)}={quote(tenant)}}}"
        )

    def plugin_selector(self, plugin: str) -> str:
        """`{plugin="X"}`: every tenant's lines of the plugin."""
        return f"{{{label_name(self.s.log_plugin_label)}={quote(plugin)}}}"

    def logs(
        self,
        plugin: str,
        tenant: str,
        pipeline: str = "",
        contains: str | None = None,
        pivots: Sequence[tuple[str, str]] = (),
    ) -> str:
        """The tenant's lines, with an optional literal line filter, the user's own pipeline, and
        `pivots`: JSON fields that must equal a value (`| json | field="v"`)."""
        q = self.selector(plugin, tenant)
        if contains:
            q += f" |= {quote(contains)}"
        if pipeline.strip():
            q += " " + pipeline.strip()
        if pivots:
            q += " | json" + "".join(f" | {json_label(k)}={quote(v)}" for k, v in pivots)
        return q

    def trace_lines(self, plugin: str, tenant: str, trace_id: str) -> str:
        """The lines of one trace: the id as structured metadata or as a JSON field (not a stream label)."""
        field = label_name(self.s.log_trace_field)
        return f"{self.selector(plugin, tenant)} |= {quote(trace_id)} | json | {field}={quote(trace_id)}"

    def error_lines(self, plugin: str, tenant: str, tool: str | None = None) -> str:
        """The tenant's error-level lines (a log query), of one tool's calls when `tool` is given."""
        levels = "|".join(re2_escape(v) for v in self.s.log_error_levels)
        lvl = label_name(self.s.log_level_field)
        q = f"{self.selector(plugin, tenant)} | json | {lvl}=~{quote('(?i)' + levels)}"
        if tool is not None:
            q += f" | {label_name(self.s.log_tool_field)}={quote(tool)}"
        return q

    def error_lines_count(self, plugin: str, tenant: str, tool: str | None, window: str) -> str:
        """How many lines `error_lines` has in `window` (a metric query): the whole of a storm that one page
        of lines only samples."""
        return f"sum(count_over_time({self.error_lines(plugin, tenant, tool)} [{window}]))"

    def error_count(self, plugin: str, tenant: str, window: str) -> str:
        """Error-level lines in `window` (a metric query)."""
        levels = "|".join(re2_escape(v) for v in self.s.log_error_levels)
        lvl = label_name(self.s.log_level_field)
        return (
            f"sum(count_over_time({self.selector(plugin, tenant)} | json | {lvl}=~{quote('(?i)' + levels)} [{window}]))"
        )
