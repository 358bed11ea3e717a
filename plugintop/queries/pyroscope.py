"""Provides Pyroscope selectors (Prometheus label-matcher syntax, so the PromQL escaper)."""

from __future__ import annotations

from plugintop.queries.promql import Matcher
from plugintop.queries.promql import quote as promql_quote
from plugintop.schema import Schema


def quote(value: str) -> str:
    """The one Pyroscope escaper: label values use the Prometheus matcher syntax."""
    return promql_quote(value)


def profile_query(schema: Schema, plugin: str) -> str:
    """`process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="recommender"}` for `/pyroscope/render`."""
    return schema.profile_type + label_selector(schema, plugin)


def label_selector(schema: Schema, plugin: str) -> str:
    """`{service_name="recommender"}` (eBPF profiles know no tenant)."""
    return "{" + Matcher(schema.profile_service_label, "=", schema.service_name(plugin)).render() + "}"
