"""Structural comparison of JSON answers: the same keys, types and nesting, ignoring the values.

Maps keyed by data (labels, structured metadata, service names) compare by their value type only."""

from __future__ import annotations

from typing import Any

MAP_KEYS = {"stream", "metric", "seriesLabels", "labels", "structuredMetadata", "parsed", "serviceStats", "value"}


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if v is None:
        return "null"
    return type(v).__name__


def _homogeneous(items: list[Any]) -> bool:
    return len({_kind(x) for x in items}) <= 1


def diff(recorded: Any, demo: Any, path: str = "$", parent: str = "") -> list[str]:
    """Where `demo` differs in shape from `recorded` (empty when they agree)."""
    if _kind(recorded) != _kind(demo):
        return [f"{path}: {_kind(recorded)} recorded, {_kind(demo)} from the demo"]
    if isinstance(recorded, dict):
        if recorded and not demo and parent not in MAP_KEYS:
            return [f"{path}: an empty object from the demo"]
        if parent in MAP_KEYS or not recorded:
            kinds_r = {_kind(v) for v in recorded.values()}
            kinds_d = {_kind(v) for v in demo.values()}
            if parent in MAP_KEYS and kinds_r and kinds_d and not kinds_d <= kinds_r | {"number", "str"}:
                return [f"{path}: map values {sorted(kinds_d)} vs recorded {sorted(kinds_r)}"]
            return []
        out = []
        missing, extra = set(recorded) - set(demo), set(demo) - set(recorded)
        if missing:
            out.append(f"{path}: demo lacks {sorted(missing)}")
        if extra:
            out.append(f"{path}: demo adds {sorted(extra)}")
        for k in set(recorded) & set(demo):
            out += diff(recorded[k], demo[k], f"{path}.{k}", k)
        return out
    if isinstance(recorded, list):
        if not recorded or not demo:
            return []
        if _homogeneous(recorded):
            out = []
            for i, item in enumerate(demo[:50]):
                model = recorded[0]
                if isinstance(item, dict):  # elements may carry optional keys: compare with the closest one
                    model = min(recorded, key=lambda r: len(set(r) ^ set(item)))
                out += diff(model, item, f"{path}[{i}]", parent)
            return out[:5]
        if len(recorded) != len(demo):
            return [f"{path}: tuple of {len(recorded)} recorded, {len(demo)} from the demo"]
        out = []
        for i, (a, b) in enumerate(zip(recorded, demo, strict=True)):
            out += diff(a, b, f"{path}[{i}]", parent)
        return out
    return []
