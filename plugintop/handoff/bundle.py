"""Provides the bundle file: one gzip'd tar of JSON and the answers' bodies, written by `bundle save` and read
by `--replay`. Data only (no pickle): `manifest.json` (what, when, plugintop's version), `requests.json` (each
exchange, redacted, no header kept), `answers/N` (the body of exchange N), `report.json` and
`context.json` (the telemetry schema, SLO and tail settings the triage read; no URL, credential or TLS)."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from plugintop import __version__
from plugintop.errors import UsageError
from plugintop.querylog import Exchange, QueryLog
from plugintop.redact import redact

FORMAT = "plugintop-bundle"
VERSION = 1
MAX_BYTES = 5 * 1024 * 1024
"""The largest bundle written: past it, `save` says so and writes nothing."""
MAX_MEMBER = 64 * 1024 * 1024
"""The largest member read back (a bundle is untrusted input: no decompression bomb)."""


class BundleError(UsageError):
    """A bundle that cannot be written or read: one line, exit 2."""


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """What a bundle holds."""

    format: str = FORMAT
    version: int = VERSION
    plugintop: str = __version__
    saved_at: float
    """When the triage ran (epoch seconds): the replay's clock."""
    plugin: str
    tenant: str
    start: float
    end: float
    p99_target_s: float | None = None
    deadline_s: float = 30.0
    urls: dict[str, str] = {}
    """Where the answers came from, redacted."""
    requests: int = 0


@dataclass
class Bundle:
    """A bundle in memory."""

    manifest: Manifest
    exchanges: list[tuple[Exchange, bytes]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def from_log(manifest: Manifest, log: QueryLog, report: dict[str, Any], context: dict[str, Any]) -> Bundle:
    """The bundle of what `log` kept: its answered requests with their bodies, and its failed ones (a
    replay fails them alike)."""
    pairs = [(row, log.answers.get(i, b"")) for i, row in enumerate(log.rows) if i in log.answers or row.error]
    return Bundle(msgspec.structs.replace(manifest, requests=len(pairs)), pairs, report, context)


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _json(v: Any) -> bytes:
    return redact(msgspec.json.encode(v, enc_hook=str).decode()).encode()


def encode(b: Bundle) -> bytes:
    """The file's bytes; every text in it passes `redact` (answers included).

    Raises:
        BundleError: the bundle is over `MAX_BYTES`.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        _member(tar, "manifest.json", _json(b.manifest))
        _member(tar, "requests.json", _json([row for row, _ in b.exchanges]))
        for i, (_, answer) in enumerate(b.exchanges):
            _member(tar, f"answers/{i}", redact(answer.decode("utf-8", "replace")).encode())
        _member(tar, "report.json", _json(b.report))
        _member(tar, "context.json", _json(b.context))
    data = gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
    if len(data) > MAX_BYTES:
        raise BundleError(
            f"the bundle would be {len(data) / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit: "
            "save a shorter range (--from/--to) or one tool"
        )
    return data


def save(path: Path, b: Bundle) -> int:
    """Writes the bundle to `path` (0600); returns its size in bytes."""
    data = encode(b)
    try:
        path.touch(mode=0o600)
        path.write_bytes(data)
    except OSError as e:
        raise BundleError(f"cannot write {path}: {e.strerror or e}") from None
    return len(data)


def _read_member(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        info = tar.getmember(name)
    except KeyError:
        raise BundleError(f"not a plugintop bundle: no {name}") from None
    if not info.isfile() or info.size > MAX_MEMBER:
        raise BundleError(f"not a plugintop bundle: {name} is not a file of at most {MAX_MEMBER >> 20} MB")
    f = tar.extractfile(info)
    assert f is not None
    return f.read()


def load(path: Path) -> Bundle:
    """Reads a bundle.

    Raises:
        BundleError: missing, truncated, foreign or from a newer plugintop (one line).
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BundleError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw)), mode="r:") as tar:
            manifest = msgspec.json.decode(_read_member(tar, "manifest.json"), type=dict[str, Any])
            if manifest.get("format") != FORMAT:
                raise BundleError(f"{path} is not a plugintop bundle")
            if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
                raise BundleError(
                    f"{path} was saved by a newer plugintop ({manifest.get('plugintop')}, bundle version "
                    f"{manifest.get('version')}): this one ({__version__}) reads version {VERSION}"
                )
            m = msgspec.convert(manifest, Manifest)
            rows = msgspec.json.decode(_read_member(tar, "requests.json"), type=list[Exchange])
            answers = [_read_member(tar, f"answers/{i}") for i in range(len(rows))]
            report = msgspec.json.decode(_read_member(tar, "report.json"), type=dict[str, Any])
            context = msgspec.json.decode(_read_member(tar, "context.json"), type=dict[str, Any])
    except BundleError:
        raise
    except (OSError, EOFError, tarfile.TarError, gzip.BadGzipFile, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BundleError(f"{path} is damaged or not a plugintop bundle ({type(e).__name__}: {e})") from None
    return Bundle(m, list(zip(rows, answers, strict=True)), report, context)
