"""Which sentiment model scores: the ``model_registry`` table read and written.

Every model version this installation used or fitted has a row with its figures; the
latest row with ``promoted_at`` set is the one scoring uses (:func:`current_model`).
A shipped model (``artifact_path`` None) is built from :mod:`nlp.models`; a fitted one
(``nlp adapt``) is loaded from its artifact file.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import sqlalchemy as sa
from sqlmodel import select

from storage import Database
from storage.models import ModelRecord, utcnow
from storage.shares import promoted_model

from nlp.errors import ModelArtifactError
from nlp.models import SentimentModel, get_model


def validation_figures(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The figures an artifact carries about itself: macro-F1 per domain and confusion rates."""
    rates = {k: round(float(metadata[k]), 4) for k in ("tpr", "fpr", "tnr", "fnr") if k in metadata}
    return {"validation": dict(metadata.get("validation_macro_f1") or {}), "rates": rates,
            "trained_on": list(metadata.get("trained_on") or [])}


promoted = promoted_model  # the model version in force (storage owns the query: shares read it too)


def record(db: Database, name: str, version: str, figures: Mapping[str, Any], *, artifact: Path | None = None,
           promote: bool = False, now: datetime | None = None) -> ModelRecord:
    """Insert or update the row of (name, version), merging ``figures``; promote it if asked."""
    now = now or utcnow()
    with db.session() as session:
        row = session.exec(select(ModelRecord).where(ModelRecord.name == name, ModelRecord.version == version)).first()
        if row is None:
            row = ModelRecord(name=name, version=version, created_at=now)
        row.figures = {**(row.figures or {}), **dict(figures)}
        if artifact is not None:
            row.artifact_path = str(artifact)
        if promote:
            row.promoted_at = now
        session.add(row)
        session.flush()
        session.refresh(row)
    return row


def ensure_registered(db: Database, model: SentimentModel, now: datetime | None = None) -> None:
    """Give a model in use its registry row; the first model ever recorded becomes the promoted one."""
    with db.session() as session:
        known = session.exec(select(sa.func.count()).select_from(ModelRecord).where(
            ModelRecord.name == model.name, ModelRecord.version == model.version)).one()
        anything_promoted = promoted(session) is not None
    if not known:
        try:
            record(db, model.name, model.version, validation_figures(model.metadata), promote=not anything_promoted,
                   now=now)
        except sa.exc.IntegrityError:  # a second runner registered it since we looked: its row stands
            pass


def current_model(db: Database, name: str | None = None) -> SentimentModel:
    """The model scoring should use.

    ``name`` (a configured ``sentiment_model``) wins when it is not the promoted model's
    name; otherwise the promoted version, or the shipped default when none is promoted.
    """
    with db.session() as session:
        row = promoted(session)
    if row is None or (name and name != row.name):
        return get_model(name)
    if row.artifact_path is None:
        return get_model(row.name)
    return load_fitted(row.artifact_path)


@lru_cache(maxsize=4)
def load_fitted(path: str) -> SentimentModel:
    """A fitted n-gram model from its artifact file, built once per process."""
    from nlp.models.ngram import NgramModel

    if not Path(path).is_file():
        raise ModelArtifactError(f"the promoted model's artifact {path} is missing; re-run `tingfeng nlp adapt`")
    return NgramModel(Path(path))
