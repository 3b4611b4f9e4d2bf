"""The chain's vocabulary: urgent terms, the touchpoint lexicon, complaint words and stop words. Pure data.

The shipped lists live in ``nlp/data`` (``urgent.toml``, ``touchpoints.toml``,
``complaints.txt``, ``stopwords.txt``), never in code. A chain adds its own words in the catalog's
``[vocabulary]`` section (``tingfeng.catalog`` validates it and syncs it into the
``vocabulary`` catalog setting); :func:`from_session` reads the shipped lists plus those
additions. A :class:`Vocabulary` is built once per run and passed down to
:mod:`nlp.urgent`, :mod:`nlp.touchpoints`, :mod:`nlp.segment` and :mod:`nlp.keywords`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from nlp.errors import VocabularyError

DATA_DIR = Path(__file__).resolve().parent / "data"
SETTING_KEY = "vocabulary"  # the CatalogSetting row holding the chain's additions
TOUCHPOINTS = ("product", "service", "environment", "price", "delivery", "digital")
_LIST_FIELDS = ("terms", "false_friends", "negations", "adjacent_negations", "hedges", "not_negations",
                "breaks", "hedge_breaks", "post_fillers", "post_negations")


@dataclass(frozen=True)
class UrgentLexicon:
    """What :mod:`nlp.urgent` matches: the terms and the words that cancel them (see ``data/urgent.toml``)."""

    terms: tuple[str, ...]
    false_friends: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    adjacent_negations: tuple[str, ...] = ()
    hedges: tuple[str, ...] = ()
    not_negations: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()
    hedge_breaks: tuple[str, ...] = ()
    post_fillers: tuple[str, ...] = ()
    post_negations: tuple[str, ...] = ()
    unless: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (term, clause words that cancel it)
    window: int = 4

    @cached_property
    def post_pattern(self) -> re.Pattern[str] | None:
        """A negation right after a term, closing its clause (拉肚子倒是没有)."""
        if not self.post_negations:
            return None
        fill = "|".join(map(re.escape, sorted(self.post_fillers, key=len, reverse=True)))
        neg = "|".join(map(re.escape, sorted(self.post_negations, key=len, reverse=True)))
        return re.compile(rf"^(?:{fill})*(?:{neg})(?:的|了|过|啦|哈|哦|呢|呀)*$" if fill else
                          rf"^(?:{neg})(?:的|了|过|啦|哈|哦|呢|呀)*$")

    @cached_property
    def unless_map(self) -> dict[str, tuple[str, ...]]:
        """``unless`` as a dict."""
        return dict(self.unless)


@dataclass(frozen=True)
class Vocabulary:
    """The lexicons of one chain: shipped lists plus the catalog's additions."""

    urgent: UrgentLexicon
    touchpoints: tuple[tuple[str, tuple[str, ...]], ...]  # (touchpoint, words), in TOUCHPOINTS order
    stopwords: frozenset[str] = field(default_factory=frozenset)
    # the touchpoint words that say on their own what went wrong (难喝, 排队; ``data/complaints.txt``)
    complaints: frozenset[str] = field(default_factory=frozenset)

    def lexicon(self) -> dict[str, tuple[str, ...]]:
        """Touchpoint key -> its words."""
        return dict(self.touchpoints)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every touchpoint word and urgent term: words of the chain's trade, whole even where
        jieba's dictionary lacks them (小程序, not 小程 + 程序)."""
        return frozenset(w for _, ws in self.touchpoints for w in ws) | frozenset(self.urgent.terms)

    @cached_property
    def touchpoint_matchers(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """One compiled alternation per touchpoint (longest words first), built once per vocabulary."""
        return tuple((tp, _alternation(words)) for tp, words in self.touchpoints)

    def extended(self, extra: Mapping[str, Any] | None) -> "Vocabulary":
        """This vocabulary with a catalog's additions (the ``vocabulary`` setting's shape:
        ``urgent``, ``urgent_exclude``, ``stopwords`` lists and ``touchpoints`` key -> list)."""
        if not extra:
            return self
        u = self.urgent
        urgent = replace(u, terms=_merge(u.terms, extra.get("urgent")),
                         false_friends=_merge(u.false_friends, extra.get("urgent_exclude")))
        more = extra.get("touchpoints") or {}
        touch = tuple((tp, _merge(words, more.get(tp))) for tp, words in self.touchpoints)
        return Vocabulary(urgent, touch, self.stopwords | {w.strip() for w in extra.get("stopwords") or () if w.strip()},
                          self.complaints)


def _merge(base: tuple[str, ...], more: Iterable[str] | None) -> tuple[str, ...]:
    out = list(base)
    for w in more or ():
        w = w.strip()
        if w and w not in out:
            out.append(w)
    return tuple(out)


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted({w.lower() for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered)) or r"(?!)")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"{path}: {exc}") from exc


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(f"{path}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def read_urgent(path: Path) -> UrgentLexicon:
    """The urgent lexicon of a TOML file shaped like ``data/urgent.toml``."""
    raw = _read_toml(path)
    unknown = set(raw) - {*_LIST_FIELDS, "unless", "window"}
    if unknown:
        raise VocabularyError(f"{path}: unknown keys {sorted(unknown)}")
    lists = {k: _strings(path, k, raw[k]) for k in _LIST_FIELDS if k in raw}
    if "terms" not in lists:
        raise VocabularyError(f"{path}: terms missing")
    unless = raw.get("unless", {})
    if not isinstance(unless, dict):
        raise VocabularyError(f"{path}: unless must be a table term -> list of words")
    window = raw.get("window", 4)
    if not isinstance(window, int) or window < 1:
        raise VocabularyError(f"{path}: window must be a positive integer")
    return UrgentLexicon(**lists, window=window,
                         unless=tuple((t, _strings(path, f"unless.{t}", ws)) for t, ws in unless.items()))


def read_touchpoints(path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The touchpoint lexicon of a TOML file shaped like ``data/touchpoints.toml``."""
    raw = _read_toml(path)
    unknown = set(raw) - set(TOUCHPOINTS)
    if unknown:
        raise VocabularyError(f"{path}: unknown touchpoints {sorted(unknown)}; expected {list(TOUCHPOINTS)}")
    return tuple((tp, _strings(path, tp, raw.get(tp, []))) for tp in TOUCHPOINTS)


def read_stopwords(path: Path) -> frozenset[str]:
    """The words of a stop-word (or complaint-word) file: one or more a line, ``#`` starts a comment."""
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        words.update(line.split("#", 1)[0].split())
    return frozenset(words)


def read(directory: Path) -> Vocabulary:
    """The vocabulary of a directory holding ``urgent.toml``, ``touchpoints.toml``, ``stopwords.txt``
    and ``complaints.txt`` (the last two optional; same format: :func:`read_stopwords`)."""
    stop, complaints = directory / "stopwords.txt", directory / "complaints.txt"
    return Vocabulary(read_urgent(directory / "urgent.toml"), read_touchpoints(directory / "touchpoints.toml"),
                      read_stopwords(stop) if stop.exists() else frozenset(),
                      read_stopwords(complaints) if complaints.exists() else frozenset())


@lru_cache(maxsize=1)
def shipped() -> Vocabulary:
    """The shipped lists of ``nlp/data`` (read once per process: they are part of the code)."""
    return read(DATA_DIR)


def from_setting(value: Mapping[str, Any] | None) -> Vocabulary:
    """The shipped lists extended by a stored ``vocabulary`` setting (None: shipped only)."""
    return shipped().extended(value)


def from_session(session: Any) -> Vocabulary:
    """The chain's vocabulary as synced into the database (the shipped lists when none is)."""
    from storage.models import CatalogSetting

    row = session.get(CatalogSetting, SETTING_KEY)
    return from_setting(row.value if row is not None else None)
