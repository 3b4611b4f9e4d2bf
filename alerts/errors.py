"""Errors raised by the alerts package.

Every error the package raises derives from :class:`AlertsError`, so callers (the CLI,
the scheduler) can catch the whole family at once. The tree, as it grows::

    AlertsError
    ├── PolicyError          the [alerts] policy cannot be used (a ValueError)
    ├── BacktestError        the backtest cannot run on the given input
    │   └── BacktestInputError   the mentions CSV is unusable as a whole
    │                            (missing columns, unreadable file); single bad
    │                            rows are reported and skipped, not raised
    └── DeliveryError        a notification could not be delivered this time (retried
        │                    with backoff by the outbox)
        ├── RateLimited      the destination (a bot) is over its rate limit; retry after
        │                    ``retry_after`` seconds without counting a failure
        ├── ServerUnreachable  the channel's one server (SMTP) cannot be reached: the
        │                    outbox stops using the channel for the rest of the run
        └── ChannelError     permanent: bad address, missing secret, refused by the
                             provider; retrying cannot help, the notification goes dead

Add new errors as subclasses of ``AlertsError`` (or of one of its children) and list
them in this docstring.
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error raised by the alerts package."""


class PolicyError(AlertsError, ValueError):
    """An alert policy value cannot be used as given."""


class BacktestError(AlertsError):
    """The backtest cannot run."""


class BacktestInputError(BacktestError, ValueError):
    """The mentions CSV given to the backtest is unusable as a whole."""


class DeliveryError(AlertsError):
    """A notification could not be delivered now; the outbox retries it with backoff."""


class RateLimited(DeliveryError):
    """The destination is over its rate limit; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerUnreachable(DeliveryError):
    """The server every message of a channel goes through (SMTP) cannot be reached."""


class ChannelError(DeliveryError):
    """A permanent delivery failure (bad address, missing secret, refused): do not retry."""
