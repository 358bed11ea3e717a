"""Provides Pyroscope selectors (Prometheus label-matcher syntax, so the PromQL escaper)."""

from __future__ import annotations

from plugintop.queries.promql import Matcher
from plugintop.queries.promql import quote as promql_quote
from plugintop.schema import Schema


def quote(value: str) -> str:
    """The one Pyroscope escaper: label values use the Prometheus matcher syntax."""
    return promql_quote(value)


def label_selector(schema: Schema, plugin: str) -> str:
    """`{service_name="recommender"}` (eBPF profiles know no tenant)."""
    return "{" + Matcher(schema.profile_service_label, "=", schema.service_name(plugin)).render() + "}"
