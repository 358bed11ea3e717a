"""Provides `redact`: removes credentials from any text that leaves the process.

Known secret values are registered when they are resolved from the environment or a file, and every
error message, log line and report passes through `redact` before it is shown.
"""

from __future__ import annotations

import re

_GRAFANA_TOKEN = re.compile(r"glsa_[A-Za-z0-9]{32}_[0-9a-fA-F]{8}")
_URL_PASSWORD = re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):[^@/\s]*@")
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization|x-ds-authorization)(['\"]?\s*[:=]\s*['\"]?)(bearer|basic)?\s*[^\s'\",}]+"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")

_known: set[str] = set()

MASK = "***"


def register_secret(value: str) -> None:
    """Remembers a secret value so that `redact` removes it wherever it appears."""
    if len(value) >= 4:
        _known.add(value)


def redact(text: str) -> str:
    """Returns `text` with tokens, passwords in URLs and registered secrets masked."""
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _GRAFANA_TOKEN.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('pre')}:{MASK}@", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _BEARER.sub(f"Bearer {MASK}", text)
