"""Exceptions raised by the collectors package.

::

    CollectorError                    base of everything below
    ├── OptionsError                  a source's options do not validate (check-config shows them)
    ├── UnknownSourceType             no collector registered for Source.type
    ├── SourceNotFound                collect_source got an id with no Source row
    ├── FetchError                    getting bytes failed (after retries)
    │   ├── NetworkError              connect/read timeout, reset, DNS ...
    │   ├── HttpStatusError           a non-success HTTP status (4xx, 5xx after retries)
    │   │   └── BlockedError          403/432/461 or a captcha / login wall page
    │   ├── RobotsDisallowed          robots.txt forbids the URL for our user agent
    │   └── ResponseTooLarge          the body passed HttpSettings.max_response_bytes
    └── ParseError                    a whole page / file could not be parsed
        └── ItemError                 one item is bad (no id, no text, bad date): logged, skipped
"""

from __future__ import annotations


class CollectorError(Exception):
    """Base of every collector error."""


class OptionsError(CollectorError):
    """A source's options are invalid; ``problems`` lists them with their key paths."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class UnknownSourceType(CollectorError):
    """No collector is registered for this source type."""


class SourceNotFound(CollectorError):
    """There is no Source row with that id."""


class FetchError(CollectorError):
    """Fetching a URL failed; ``url`` and ``status`` (if any) say where."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class NetworkError(FetchError):
    """A transport failure that outlived the retries."""


class HttpStatusError(FetchError):
    """The server answered with an error status."""


class BlockedError(HttpStatusError):
    """A block page, login wall or captcha: retrying will not help, a human must look."""


class RobotsDisallowed(FetchError):
    """robots.txt disallows the URL and the source respects robots."""


class ResponseTooLarge(FetchError):
    """The response body is bigger than the configured cap."""


class ParseError(CollectorError):
    """A page or file as a whole cannot be parsed."""


class ItemError(ParseError):
    """One item cannot be used; the rest of its page is kept."""
