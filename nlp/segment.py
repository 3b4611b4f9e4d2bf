"""Word segmentation with jieba, keeping the catalog's names whole.

Each distinct catalog (its set of names and aliases) gets its own private
``jieba.Tokenizer``, built once per process on first use and cached: the global
``jieba`` dictionary is never touched, so two catalogs cannot leak into each other, and
a worker process (fork or spawn) simply builds its own. jieba's chatty start-up logging
is silenced.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Iterable, Iterator

CATALOG_FREQ = 2_000_000  # high enough to win over any split of the name

_WORD = re.compile(r"[\w\u4e00-\u9fff]")


def _silence_jieba() -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _base():  # noqa: ANN202 - jieba has no types
    """jieba's default dictionary, loaded once per process (the slow part: ~1 s)."""
    import jieba

    _silence_jieba()
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


LEXICON_FREQ = 10  # known to the word graph, too rare to change how jieba cuts a sentence


@lru_cache(maxsize=8)
def _tokenizer(names: frozenset[str], words: frozenset[str] = frozenset()):  # noqa: ANN202 - jieba has no types
    import jieba

    base = _base()
    tok = jieba.Tokenizer()
    # share the loaded default dictionary instead of re-reading it (jieba 0.42 internals)
    tok.FREQ, tok.total, tok.initialized = dict(base.FREQ), base.total, True
    for word in sorted(words - names):
        if not tok.FREQ.get(word):
            tok.add_word(word, freq=LEXICON_FREQ)
    for name in sorted(names):
        tok.add_word(name, freq=CATALOG_FREQ)
    return tok


def stopwords() -> frozenset[str]:
    """The shipped words that never make a useful keyword (``data/stopwords.txt``); a chain's
    own are added in its :class:`~nlp.vocabulary.Vocabulary`."""
    from nlp.vocabulary import shipped

    return shipped().stopwords


def tokenizer(names: Iterable[str] = (), words: Iterable[str] = ()):  # noqa: ANN201 - jieba has no types
    """The private jieba tokenizer for a catalog's names (built once per process); ``words``
    (the chain's lexicon: 小程序, 没地方坐 …) are added to its dictionary where jieba lacks them."""
    return _tokenizer(frozenset(n.strip() for n in names if n and n.strip()),
                      frozenset(w.strip().lower() for w in words if w and w.strip()))


def tokens(text: str, names: Iterable[str] = ()) -> list[str]:
    """Words of ``text`` (catalog names kept whole), whitespace dropped."""
    return [w for w in tokenizer(names).lcut(text, HMM=True) if w.strip()]


def content_words(text: str, names: Iterable[str] = (), stop: frozenset[str] | None = None) -> list[str]:
    """Words worth counting as keywords: no stop words, no punctuation, no single non-Chinese chars."""
    return list(iter_content_words(text, tokenizer(names), stop))


def iter_content_words(text: str, tok: Any, stop: frozenset[str] | None = None) -> Iterator[str]:
    """The content words of ``text`` in order, segmented lazily by ``tok`` (a :func:`tokenizer`).

    ``stop``: the stop words (default: the shipped ones). A caller that needs only the
    first few words stops the segmentation early.
    """
    stop = stopwords() if stop is None else stop
    for w in tok.cut(text, HMM=True):
        w = w.strip().lower()
        if not w or w in stop or not _WORD.search(w) or w.isdigit() and w not in {"315", "12315"}:
            continue
        if len(w) == 1 and not ("\u4e00" <= w <= "\u9fff"):
            continue
        yield w
