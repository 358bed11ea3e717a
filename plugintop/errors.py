"""Provides the exception tree; the UI, report and CLI catch only these.

PlugintopError
 ├── UsageError              bad command-line value (exit 2)
 ├── ConfigError             a mistake in the config file or environment (exit 2)
 ├── QueryValueError         a value that cannot be put in a query (e.g. a lone surrogate)
 └── BackendError            anything a backend did; carries the backend's name
      ├── Unreachable        connection refused, DNS, TLS handshake
      ├── BackendTimeout     connect or read timeout
      ├── Unauthorized       401 / 403
      ├── NotFound           404, or an empty "not found" answer
      ├── RateLimited        429, with Retry-After when given
      ├── BadQuery           400 / 422 with the backend's own message
      ├── ServerError        5xx
      └── BadResponse        not the JSON we expect (HTML login page, truncated, wrong shape)
"""

from __future__ import annotations


class PlugintopError(Exception):
    """Base of every error plugintop raises on purpose."""


class UsageError(PlugintopError):
    """A command-line value that cannot be used."""


class ConfigError(PlugintopError):
    """A mistake in the configuration: names the file and key when there is one."""


class QueryValueError(PlugintopError, ValueError):
    """A value that cannot be represented in a query language."""


class BackendError(PlugintopError):
    """A backend failed to give a usable answer.

    Args:
        backend: `prometheus`, `loki`, `tempo`, `pyroscope` or `grafana`.
        message: one line for a person, already redacted.
    """

    kind = "error"

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether a retry of the same idempotent read may succeed."""
        return False


class Unreachable(BackendError):
    kind = "unreachable"

    @property
    def retryable(self) -> bool:
        return True


class BackendTimeout(BackendError):
    kind = "timeout"

    @property
    def retryable(self) -> bool:
        return True


class Unauthorized(BackendError):
    kind = "unauthorized"


class NotFound(BackendError):
    kind = "not found"


class NotInBundle(BackendError):
    """A replay was asked for something the bundle does not hold."""

    kind = "not_in_bundle"


class RateLimited(BackendError):
    kind = "rate limited"

    def __init__(self, backend: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(backend, message)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class BadQuery(BackendError):
    kind = "bad query"


class ServerError(BackendError):
    kind = "server error"

    def __init__(self, backend: str, message: str, status: int) -> None:
        super().__init__(backend, message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status in (502, 503, 504)


class BadResponse(BackendError):
    kind = "bad response"
