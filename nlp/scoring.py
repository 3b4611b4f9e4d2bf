"""Score cleaned texts in batches: sentiment, three-way label, touchpoints, urgent terms.

Shared by the database stage (:mod:`nlp.pipeline`) and the CSV tools (:mod:`nlp.batch`).
Every text and every touchpoint clause go to the model in two batched calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from nlp import touchpoints as tp
from nlp import urgent
from nlp.models import SentimentModel, labeller


@dataclass(frozen=True)
class TextScore:
    """What the model and the lexicons say about one cleaned text."""

    score: float
    label: str
    touchpoints: tuple[tp.TouchpointHit, ...]
    urgent_terms: tuple[str, ...]


def score_texts(texts: Sequence[str], model: SentimentModel,
                extra_terms: Mapping[str, Iterable[str]] | None = None) -> list[TextScore]:
    """Score already-cleaned ``texts`` (``extra_terms``: more touchpoint words, e.g. product names)."""
    label = labeller(model)
    assign = tp.assigner(extra_terms)
    assigned = [assign(t) for t in texts]
    clauses = [c.text for a in assigned for c, _ in a]
    scores = model.score(texts) if texts else []
    clause_scores = model.score(clauses) if clauses else []
    out, k = [], 0
    for text, a, p in zip(texts, assigned, scores):
        hits = tp.touchpoints(a, clause_scores[k:k + len(a)], label)
        k += len(a)
        p = min(max(float(p), 0.0), 1.0)
        out.append(TextScore(p, label(p), tuple(hits), tuple(urgent.urgent_terms(text))))
    return out
