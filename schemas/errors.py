"""The one exception family of glean. Every message says what went wrong and what to do."""

from __future__ import annotations


class GleanError(Exception):
    """Base of every error glean raises on purpose; the CLI prints it as one line and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(GleanError):
    """Configuration is missing, malformed or inconsistent."""

    exit_code = 2


class DomainSpecError(GleanError):
    """A domain spec file is malformed or an unknown domain was asked for."""

    exit_code = 2


class RecordError(GleanError):
    """A record failed strict validation."""


class StorageError(GleanError):
    """The database could not be opened, migrated or written."""


class ChainError(GleanError):
    """The chain refused or failed an operation."""


class NotRegisteredError(ChainError):
    """The hotkey is not registered on the subnet."""


class RateLimitedError(ChainError):
    """The chain refused the call because of a rate limit; retry after the given number of blocks."""

    def __init__(self, message: str, *, hint: str | None = None, retry_after_blocks: int = 0) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_blocks = retry_after_blocks


class ScrapeError(GleanError):
    """A source could not be crawled or a page could not be parsed."""


class ProtocolError(GleanError):
    """A peer answered outside the protocol (bad status, bad schema, too large, too slow)."""


class PublishError(GleanError):
    """A dataset release could not be written or pushed."""


class PullError(GleanError):
    """A dataset could not be resolved or loaded."""


class RequestError(GleanError):
    """A dataset request is malformed, breaks a rule of its source kinds, or was refused by a validator."""

    exit_code = 2
