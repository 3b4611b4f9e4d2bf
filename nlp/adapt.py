"""``nlp adapt``: fit a chain-specific sentiment model from its own ratings and corrections.

Weak supervision: a mention with a star rating is a labelled example — 1–2 stars
negative, 4–5 positive, 3 (and anything between 2 and 4) left out. A sentiment
correction from the dashboard labels its mention too and wins over the rating;
corrections to neutral are left out. Near-duplicate reposts are left out.

The candidate is the base recipe (:func:`nlp.train.train` on the shared data) with the
chain's examples added as one more domain. It is measured by k-fold cross-validation on
the chain's examples: for each fold a candidate is fitted without that fold and scores
it, and the model in force scores the same texts; the pooled macro-F1 of both is
recorded. Only a candidate better by more than ``min_gain`` is promoted; either way the
final candidate (fitted on every chain example) and both figures are recorded in
``model_registry``.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlmodel import select

from storage import Database
from storage.corrections import SENTIMENT, latest_corrections
from storage.models import Correction, Mention, utcnow

from nlp import metrics
from nlp.errors import AdaptError
from nlp.models import SentimentModel
from nlp.pipeline import mention_text
from nlp.ratings import rating_label
from nlp.registry import current_model, ensure_registered, record, validation_figures
from nlp.train import DEFAULT_DATA, RECIPE, Example, Recipe, train

CHAIN_DOMAIN = "chain"
CANDIDATE_NAME = "ngram-lr-chain"
MIN_PER_CLASS = 10
_CORRECTION_LABELS = {"positive": 1, "negative": 0}


def chain_examples(db: Database) -> tuple[list[Example], int]:
    """(labelled examples from rated and corrected mentions, how many labels came from corrections)."""
    with db.session() as session:
        corrected = {c.mention_id: _CORRECTION_LABELS.get(c.new_label)
                     for c in latest_corrections(session) if c.kind == SENTIMENT}
        q = (select(Mention.id, Mention.text, Mention.title, Mention.rating)
             .where(Mention.duplicate_of.is_(None),
                    sa.or_(Mention.rating.isnot(None),
                           Mention.id.in_(select(Correction.mention_id).where(Correction.kind == SENTIMENT))))
             .order_by(Mention.id))
        rows = session.exec(q).all()
    out, from_corrections = [], 0
    for mid, text, title, rating in rows:
        label = corrected[mid] if mid in corrected else rating_label(rating)
        if label is None:
            continue
        from_corrections += mid in corrected
        out.append(Example(f"m{mid}", mention_text(text or "", title), label, CHAIN_DOMAIN))
    return out, from_corrections


def folds_of(examples: Sequence[Example], k: int) -> list[int]:
    """A fold number per example, stratified by label and reproducible (by a hash of the id)."""
    fold = [0] * len(examples)
    for label in (0, 1):
        idx = [i for i, e in enumerate(examples) if e.label == label]
        idx.sort(key=lambda i: hashlib.sha1(examples[i].id.encode()).hexdigest())
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


@dataclass(frozen=True)
class AdaptResult:
    """What one ``nlp adapt`` run measured and decided."""

    base: str  # "name version" of the model in force
    candidate: str
    base_macro_f1: float
    candidate_macro_f1: float
    n_examples: int
    n_from_corrections: int
    folds: int
    promoted: bool
    artifact: Path

    @property
    def figures(self) -> dict[str, Any]:
        """The cross-validation figures as stored in the registry."""
        return {"base": self.base, "base_macro_f1": round(self.base_macro_f1, 4),
                "candidate_macro_f1": round(self.candidate_macro_f1, 4), "n_examples": self.n_examples,
                "n_from_corrections": self.n_from_corrections, "folds": self.folds}


def cross_validate(examples: Sequence[Example], base: SentimentModel, fit: Callable[[Sequence[Example], Path], Any],
                   k: int, workdir: Path) -> tuple[float, float]:
    """(base macro-F1, candidate macro-F1) pooled over k folds of ``examples``.

    ``fit(train_examples, artifact_path)`` writes a candidate artifact.
    """
    from nlp.models.ngram import NgramModel

    fold = folds_of(examples, k)
    labels, base_p, cand_p = [], [], []
    for f in range(k):
        held = [e for e, g in zip(examples, fold) if g == f]
        path = workdir / f"fold{f}.npz"
        fit([e for e, g in zip(examples, fold) if g != f], path)
        texts = [e.text for e in held]
        labels.extend(e.label for e in held)
        base_p.extend(base.score(texts))
        cand_p.extend(NgramModel(path).score(texts))
    return metrics.macro_f1(labels, base_p), metrics.macro_f1(labels, cand_p)


def adapt(db: Database, models_dir: Path, *, data_dir: Path = DEFAULT_DATA, base: SentimentModel | None = None,
          folds: int = 5, min_gain: float = 0.0, exclude: Sequence[str] = (), recipe: Recipe = RECIPE,
          now: datetime | None = None, log: Callable[[str], None] = lambda _: None) -> AdaptResult:
    """Fit, cross-validate and maybe promote a chain model (see the module docstring)."""
    from nlp.models.ngram import load_artifact, save_artifact

    now = now or utcnow()
    base = base or current_model(db)
    examples, n_corr = chain_examples(db)
    per_class = [sum(e.label == y for e in examples) for y in (0, 1)]
    if min(per_class) < max(MIN_PER_CLASS, folds):
        raise AdaptError(f"too few labelled mentions to adapt: {per_class[0]} negative and {per_class[1]} positive "
                         f"(rated 1–2 / 4–5 stars or corrected); need at least {max(MIN_PER_CLASS, folds)} of each")
    if not (Path(data_dir) / "waimai_10k_train.csv").is_file():
        raise AdaptError(f"the base training data is not in {data_dir} (see nlp/train.py)")

    def fit(rows: Sequence[Example], path: Path) -> dict:
        return train(data_dir, path, recipe=recipe, exclude=exclude, extra=rows, log=log)

    log(f"{len(examples)} chain examples ({per_class[0]} negative, {per_class[1]} positive; {n_corr} from corrections)")
    with tempfile.TemporaryDirectory() as tmp:
        base_f1, cand_f1 = cross_validate(examples, base, fit, folds, Path(tmp))
        log(f"cross-validated macro-F1: base {base.name} {base.version} {base_f1:.4f}, candidate {cand_f1:.4f}")
        final = Path(tmp) / "final.npz"
        fit(examples, final)
        weights, meta, idf, heads = load_artifact(final)
    meta = {**meta, "name": CANDIDATE_NAME, "adapted_from": f"{base.name} {base.version}", "n_chain": len(examples)}
    models_dir = Path(models_dir)
    artifact = models_dir / f"{CANDIDATE_NAME}-{meta['version']}.npz"
    save_artifact(artifact, weights, meta, idf=idf, heads=heads)
    better = cand_f1 > base_f1 + min_gain
    result = AdaptResult(f"{base.name} {base.version}", f"{CANDIDATE_NAME} {meta['version']}", base_f1, cand_f1,
                         len(examples), n_corr, folds, better, artifact)
    ensure_registered(db, base, now=now)
    record(db, base.name, base.version, {"cv_as_base": result.figures}, now=now)
    record(db, CANDIDATE_NAME, meta["version"], {**validation_figures(meta), "cv": result.figures},
           artifact=artifact.resolve(), promote=better, now=now)
    return result
