"""Provides the cost cross-check: tokens and USD per minute by model, window against baseline."""

from __future__ import annotations

import math

from plugintop.analysis.model import CostSummary, ModelCost


def _clean(d: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in d.items() if math.isfinite(v)}


def summarise_cost(
    usd: dict[str, float],
    base_usd: dict[str, float],
    tokens: dict[str, float],
    base_tokens: dict[str, float],
    calls_per_min: float,
    base_calls_per_min: float,
    source: str = "metrics",
) -> CostSummary:
    """Per-minute figures by model (tokens summed over directions) into one summary."""
    usd, base_usd, tokens, base_tokens = _clean(usd), _clean(base_usd), _clean(tokens), _clean(base_tokens)
    models = sorted(set(usd) | set(base_usd) | set(tokens) | set(base_tokens))
    by_model = [
        ModelCost(m, usd.get(m, 0.0), base_usd.get(m, 0.0), tokens.get(m, 0.0), base_tokens.get(m, 0.0)) for m in models
    ]
    by_model.sort(key=lambda c: -c.usd_per_min)
    return CostSummary(
        usd_per_min=sum(usd.values()),
        baseline_usd_per_min=sum(base_usd.values()),
        tokens_per_min=sum(tokens.values()),
        baseline_tokens_per_min=sum(base_tokens.values()),
        calls_per_min=calls_per_min if math.isfinite(calls_per_min) else 0.0,
        baseline_calls_per_min=base_calls_per_min if math.isfinite(base_calls_per_min) else 0.0,
        by_model=by_model,
        source=source,
    )


def ratio(now: float | None, before: float | None) -> float | None:
    """now / before, or None when either is missing or before is zero."""
    if now is None or before is None or before <= 0 or not math.isfinite(now):
        return None
    return now / before
