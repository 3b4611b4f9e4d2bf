"""Score cleaned texts in batches: sentiment, three-way label, touchpoints, urgent terms.

Shared by the database stage (:mod:`nlp.pipeline`) and the CSV tools (:mod:`nlp.batch`).
Every text and every touchpoint clause go to the model in two batched calls. The model
sees them without their negated complaint spans (:func:`nlp.urgent.neutralised`): in
"没有吃出头发，也没有变质，放心" the words 头发 and 变质 say nothing bad.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from nlp import touchpoints as tp
from nlp import urgent
from nlp import vocabulary
from nlp.models import SentimentModel, labeller
from nlp.vocabulary import Vocabulary


@dataclass(frozen=True)
class TextScore:
    """What the model and the lexicons say about one cleaned text."""

    score: float
    label: str
    touchpoints: tuple[tp.TouchpointHit, ...]
    urgent_terms: tuple[str, ...]


def score_texts(texts: Sequence[str], model: SentimentModel,
                extra_terms: Mapping[str, Iterable[str]] | None = None,
                vocab: Vocabulary | None = None) -> list[TextScore]:
    """Score already-cleaned ``texts`` (``extra_terms``: more touchpoint words, e.g. product
    names; ``vocab``: the chain's vocabulary, the shipped one when None)."""
    vocab = vocab or vocabulary.shipped()
    label = labeller(model)
    assign = tp.assigner(extra_terms, vocab)
    assigned = [assign(t) for t in texts]
    scanned = [urgent.scan(t, vocab.urgent) for t in texts]
    # a clause needs neutralising only where its text had a negated span
    clauses = [urgent.neutralised(c.text, vocab.urgent) if plain != t else c.text
               for t, (_, plain), a in zip(texts, scanned, assigned) for c, _ in a]
    scores = model.score([plain for _, plain in scanned]) if texts else []
    clause_scores = model.score(clauses) if clauses else []
    out, k = [], 0
    for (terms, _), a, p in zip(scanned, assigned, scores):
        hits = tp.touchpoints(a, clause_scores[k:k + len(a)], label)
        k += len(a)
        p = min(max(float(p), 0.0), 1.0)
        out.append(TextScore(p, label(p), tuple(hits), tuple(terms)))
    return out
