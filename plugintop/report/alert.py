"""Provides an alerting-rule draft as YAML (a rule group, ready to paste into `custom-alerts.yaml`) or
JSON. Every string is written as a JSON string, which YAML reads as the same double-quoted scalar: a
name can't break out of its field."""

from __future__ import annotations

from plugintop.queries.alerts import Rule
from plugintop.textsafe import json_text


def yaml_string(s: str) -> str:
    """`s` as a YAML double-quoted scalar: `"` and `\\` escaped, and every character YAML forbids in a
    stream (C0 and C1 controls, DEL, line and paragraph separators, BOM) written as an escape; a lone
    surrogate (no character at all) becomes U+FFFD."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")
        elif o < 0x20 or 0x7F <= o <= 0x9F or ch in "\u2028\u2029\ufeff":
            out.append(f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_yaml(group: str, rules: list[Rule]) -> str:
    out = ["groups:", f"  - name: {yaml_string(group)}", "    rules:"]
    for r in rules:
        out += [
            f"      - alert: {yaml_string(r.alert)}",
            f"        expr: {yaml_string(r.expr)}",
            f"        for: {yaml_string(r.duration)}",
            "        labels:",
            *[f"          {yaml_string(k)}: {yaml_string(v)}" for k, v in r.labels.items()],
            "        annotations:",
            *[f"          {yaml_string(k)}: {yaml_string(v)}" for k, v in r.annotations.items()],
        ]
    return "\n".join(out) + "\n"


def to_json(group: str, rules: list[Rule]) -> str:
    doc = {
        "groups": [
            {
                "name": group,
                "rules": [
                    {
                        "alert": r.alert,
                        "expr": r.expr,
                        "for": r.duration,
                        "labels": r.labels,
                        "annotations": r.annotations,
                    }
                    for r in rules
                ],
            }
        ]
    }
    return json_text(doc)
