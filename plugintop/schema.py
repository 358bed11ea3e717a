"""Provides `Schema`: every telemetry name plugintop reads (DESIGN §1). Nothing else spells them."""

from __future__ import annotations

import re

import msgspec


def metric_name(text: str) -> str:
    """`text` made a metric name, as the platform SDK's meter prefixes a plugin's metrics: every character
    outside `[a-zA-Z0-9_:]` becomes `_`, and a leading digit gets a `_` before it."""
    out = re.sub(r"[^a-zA-Z0-9_:]", "_", text)
    return out if out and not out[0].isdigit() else "_" + out


class Schema(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Metric, label, span, log and profile names; defaults follow the platform SDK."""

    duration_metric: str = "plugin_tool_duration_seconds"
    """Histogram of tool-call latency (`_bucket`, `_sum`, `_count`)."""
    tokens_metric: str = "plugin_llm_tokens_total"
    cost_metric: str = "plugin_llm_cost_usd_total"
    plugin_label: str = "plugin"
    tool_label: str = "tool"
    tenant_label: str = "tenant"
    version_label: str = "version"
    outcome_label: str = "outcome"
    model_label: str = "model"
    direction_label: str = "direction"
    success_outcomes: tuple[str, ...] = ("success",)
    """`outcome` values that count as success; every other value is a failure."""

    business_prefix: str = "{plugin}_"
    """Names of the plugin's own (business) metrics start so; `{plugin}` is the plugin's name made a metric
    name (every character outside `[a-zA-Z0-9_:]` becomes `_`)."""
    business_tenant_label: str = "tenant_id"
    """The tenant's label on business metrics (the SDK's meter writes `tenant_id`, not `tenant`)."""

    span_name: str = "plugin.{plugin}.tool.{tool}"
    """The tool span's name; `{plugin}` and `{tool}` are substituted."""
    span_tenant_attr: str = "tenant.id"
    span_version_attr: str = "plugin.version"
    llm_model_attrs: tuple[str, ...] = ("llm.model", "gen_ai.request.model")
    llm_span_name_pattern: str = r"^(chat|completion|llm|gen_ai)\b"
    """A child span whose name matches (case-insensitive) is a model call even without a model attribute."""
    llm_cost_attr: str = "llm.cost_usd"
    llm_prompt_tokens_attrs: tuple[str, ...] = ("llm.tokens.prompt", "gen_ai.usage.input_tokens")
    llm_completion_tokens_attrs: tuple[str, ...] = ("llm.tokens.completion", "gen_ai.usage.output_tokens")

    log_plugin_label: str = "plugin"
    log_tenant_label: str = "tenant_id"
    log_trace_field: str = "trace_id"
    log_span_field: str = "span_id"
    log_level_field: str = "level"
    log_tool_field: str = "tool"
    log_version_field: str = "version"
    log_message_fields: tuple[str, ...] = ("msg", "message")
    log_error_levels: tuple[str, ...] = ("error", "fatal", "critical")

    profile_type: str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
    profile_service_label: str = "service_name"
    profile_service: str = "{plugin}"
    """The profile's service name; `{plugin}` is substituted."""

    def tool_span_name(self, plugin: str, tool: str) -> str:
        return self.span_name.replace("{plugin}", plugin).replace("{tool}", tool)

    def tool_of_span(self, plugin: str, name: str) -> str:
        """The tool a tool span's name names (`tool_span_name` read backwards), or "" for another span."""
        head, _, tail = self.span_name.replace("{plugin}", plugin).partition("{tool}")
        if len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail):
            return name[len(head) : len(name) - len(tail)]
        return ""

    def plugin_and_tool(self, name: str) -> tuple[str, str] | None:
        """The plugin and tool a tool span's name names (`tool_span_name` read backwards), or None."""
        head, _, rest = self.span_name.partition("{plugin}")
        middle, _, tail = rest.partition("{tool}")
        if "{tool}" not in self.span_name or not middle:
            return None
        if not (name.startswith(head) and name.endswith(tail)) or len(name) <= len(head) + len(tail):
            return None
        plugin, sep, tool = name[len(head) : len(name) - len(tail)].partition(middle)
        return (plugin, tool) if sep and plugin and tool else None

    def business_prefix_of(self, plugin: str) -> str:
        """The metric-name prefix of the plugin's business metrics (`recommender_`)."""
        return self.business_prefix.replace("{plugin}", metric_name(plugin))

    def service_name(self, plugin: str) -> str:
        return self.profile_service.replace("{plugin}", plugin)
