"""The explicit registry of source types: ``type`` name → collector class."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from collectors.base import Collector
from collectors.errors import UnknownSourceType
from collectors.sources.feed import FeedCollector
from collectors.sources.file import FileCollector
from collectors.sources.html import HtmlCollector
from collectors.sources.jsonapi import JsonCollector
from collectors.sources.mediacrawler import MediaCrawlerCollector

COLLECTORS: dict[str, type[Collector]] = {
    FeedCollector.type: FeedCollector,
    HtmlCollector.type: HtmlCollector,
    FileCollector.type: FileCollector,
    JsonCollector.type: JsonCollector,
    MediaCrawlerCollector.type: MediaCrawlerCollector,
}


def get_collector(type_name: str) -> Collector:
    """A collector instance for ``type_name``; raises :class:`UnknownSourceType`."""
    try:
        return COLLECTORS[type_name]()
    except KeyError:
        raise UnknownSourceType(
            f"unknown source type {type_name!r}; known: {', '.join(sorted(COLLECTORS))}") from None


def validate_options(type_name: str, options: dict[str, Any]) -> list[str]:
    """Human-readable problems with a source's options, each with its key path
    (``options.fields.time: field required``); empty when they are valid."""
    if type_name not in COLLECTORS:
        return [f"type: unknown source type {type_name!r} (known: {', '.join(sorted(COLLECTORS))})"]
    try:
        COLLECTORS[type_name].Options.model_validate(options or {})
    except ValidationError as exc:
        return option_problems(exc)
    return []


def option_problems(exc: ValidationError) -> list[str]:
    """pydantic errors as ``options.<path>: <message>`` lines."""
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in ("options", *error["loc"]))
        message = error["msg"]
        if error["type"] == "missing":
            message = "field required"
        elif error["type"] == "extra_forbidden":
            message = "unknown option"
        problems.append(f"{path}: {message}")
    return problems
