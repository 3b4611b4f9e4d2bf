"""The scoring stage: pending mentions in, ``MentionAnalysis`` rows out.

A mention is pending while it has a ``ScoreQueue`` row (a trigger adds one for every
mention stored). :func:`score_pending` takes pending mentions in id order, batch by
batch; each batch is analysed in memory (:func:`analyse`, pure) and written in one
transaction together with its ``MentionTouchpoint`` rows and the ``RollupDirty`` days it
touches, and its queue rows are deleted in that same transaction, so a crash loses at
most the batch in flight and a re-run continues where it stopped. The rows are written
in bulk from plain column dicts (``storage.bulk.insert_rows``: ``COPY`` on PostgreSQL):
building an ORM object per row cost more than the analysis itself (docs/benchmarks.md,
"Scoring stage"). :func:`rescore` replaces existing analyses, for a model upgrade.

The text analysed is the cleaned title + body (:func:`nlp.text.clean`); touchpoint
``start``/``end`` offsets point into that cleaned text, and ``evidence`` holds the clause.
A rated mention's label is its stars' where they are clear (:mod:`nlp.ratings`: 1–2
negative, 4–5 positive); ``score`` stays the model's reading of the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from storage import Database
from storage.bulk import insert_rows
from storage.corrections import reapply_corrections
from storage.dirty_days import mark_dirty, utc_day
from storage.models import (
    Brand,
    Mention,
    MentionAnalysis,
    MentionTouchpoint,
    Product,
    ScoreQueue,
    Source,
    Store,
)

from nlp import segment
from nlp import text as textmod
from nlp import vocabulary
from nlp.linking import Catalog, Evidence, LinkResult, link
from nlp.models import SentimentModel, get_model
from nlp.ratings import label_with_rating
from nlp.scoring import TextScore, score_texts
from nlp.vocabulary import Vocabulary

MAX_KEYWORDS = 8
MAX_RACES = 10  # batches lost to a concurrent worker before giving up


@dataclass(frozen=True)
class MentionInput:
    """What the analysis needs from a mention and its source."""

    id: int
    text: str
    title: str | None
    published_at: datetime
    platform: str
    duplicate_of: int | None = None
    evidence: Evidence = field(default_factory=Evidence)
    rating: float | None = None  # 0–5 stars; where clear they decide the label (:mod:`nlp.ratings`)


@dataclass(frozen=True)
class Analysis:
    """The analysis of one mention, ready to be written: column values of its rows."""

    row: dict[str, Any]  # a ``mention_analysis`` row
    touchpoints: list[dict[str, Any]]  # its ``mention_touchpoints`` rows (without ids)


def load_catalog(session: Session) -> Catalog:
    """The catalog as stored in the database."""
    return Catalog.from_rows(
        session.exec(select(Brand)).all(),
        session.exec(select(Store)).all(),
        session.exec(select(Product)).all(),
    )


def _inputs(rows: Iterable[tuple[Mention, Source | None]]) -> list[MentionInput]:
    out = []
    for m, s in rows:
        out.append(MentionInput(
            id=m.id,
            text=m.text or "",
            title=m.title,
            published_at=m.published_at,
            platform=m.platform or (s.platform if s else ""),
            duplicate_of=m.duplicate_of,
            rating=m.rating,
            evidence=Evidence(
                brand_id=s.brand_id if s else None,
                store_id=s.store_id if s else None,
                product_id=s.product_id if s else None,
                brand_hint=m.brand_hint,
                store_hint=m.store_hint,
                product_hint=m.product_hint,
            ),
        ))
    return out


def mention_text(text: str, title: str | None) -> str:
    """The text a mention is scored on: cleaned title + body (the title only when not in the body)."""
    body = textmod.clean(text)
    title = textmod.clean(title) if title else ""
    if title and title not in body:
        return f"{title} {body}".strip()
    return body


def analyse(mentions: Sequence[MentionInput], catalog: Catalog, model: SentimentModel,
            now: datetime, vocab: Vocabulary | None = None) -> list[Analysis]:
    """Analyse a batch in memory: clean, link, score, touchpoints, urgent terms, keywords
    (``vocab``: the chain's vocabulary, :func:`nlp.vocabulary.from_session`; shipped when None)."""
    vocab = vocab or vocabulary.shipped()
    texts = [mention_text(m.text, m.title) for m in mentions]
    extra = {"product": [n for e in catalog.products.values() for n in (e.name, *e.aliases) if n]}
    tok = segment.tokenizer(catalog.names())  # resolved once per batch, not per mention
    out = []
    for m, t, s in zip(mentions, texts, score_texts(texts, model, extra, vocab)):
        row = _row(m, link(t, catalog, m.evidence), model, s, _keywords(t, tok, vocab.stopwords), now)
        out.append(Analysis(row, [
            {"mention_id": m.id, "touchpoint": h.touchpoint, "polarity": h.polarity, "score": h.score,
             "evidence": h.evidence, "start": h.start, "end": h.end}
            for h in s.touchpoints
        ]))
    return out


def _keywords(text: str, tok: Any, stop: frozenset[str] | None = None) -> list[str]:
    """The first :data:`MAX_KEYWORDS` distinct content words of two characters or more.

    Segmentation is lazy and stops there: the rest of a long text is never segmented.
    """
    seen: list[str] = []
    for w in segment.iter_content_words(text, tok, stop):
        if w not in seen and len(w) >= 2:
            seen.append(w)
            if len(seen) == MAX_KEYWORDS:
                break
    return seen


def _row(m: MentionInput, lk: LinkResult, model: SentimentModel, s: TextScore,
         keywords: list[str], now: datetime) -> dict[str, Any]:
    return {
        "mention_id": m.id,
        "published_at": m.published_at,
        "platform": m.platform,
        "brand_id": lk.brand_id,
        "region_id": lk.region_id,
        "store_id": lk.store_id,
        "product_id": lk.product_id,
        "link_confidence": round(lk.confidence, 3),
        "links": [x.as_dict() for x in lk.links],
        "model": model.name,
        "model_version": model.version,
        "score": round(s.score, 6),
        "label": label_with_rating(s.label, m.rating),
        "urgent": bool(s.urgent_terms),
        "urgent_terms": list(s.urgent_terms),
        "keywords": keywords,
        "counted": m.duplicate_of is None,
        "scored_at": now,
    }


def _write(session: Session, analyses: Sequence[Analysis]) -> None:
    """Bulk-insert a batch's analyses and touchpoints (``COPY`` on PostgreSQL), re-apply the
    corrections of those mentions (a rescore must not undo them), and mark the days dirty."""
    if not analyses:
        return
    insert_rows(session, MentionAnalysis.__table__, [a.row for a in analyses])
    insert_rows(session, MentionTouchpoint.__table__, [t for a in analyses for t in a.touchpoints])
    reapply_corrections(session, [a.row["mention_id"] for a in analyses])
    mark_dirty(session, (utc_day(a.row["published_at"]) for a in analyses))


def _pending_query(after_id: int, batch_size: int, dialect: str) -> Any:
    """The next batch of queued mentions (with their sources) after ``after_id``.

    The queue rows are taken in a subquery of their own (index order, ``LIMIT``, and on
    PostgreSQL ``FOR UPDATE SKIP LOCKED`` so workers share the backlog), then joined to
    ``mentions`` by primary key: joined in one flat query, the planner may merge-join
    the whole ``mentions`` index from its start, which walks everything already scored.
    """
    claim = (select(ScoreQueue.mention_id).where(ScoreQueue.mention_id > after_id)
             .order_by(ScoreQueue.mention_id).limit(batch_size))
    if dialect == "postgresql":
        claim = claim.with_for_update(skip_locked=True)
    claimed = claim.subquery("claimed")
    return (
        select(Mention, Source)
        .join(claimed, claimed.c.mention_id == Mention.id)
        .join(Source, Source.id == Mention.source_id, isouter=True)
        .order_by(Mention.id)
    )


def _lock_for_claim(session: Session, dialect: str) -> None:
    """On SQLite, take the database write lock before the batch is read.

    SQLite has no row locks, and its driver starts the transaction only at the first
    write: two runners would read the same batch and the slower one's insert would hit
    the primary key. A write that changes nothing, issued first, opens the transaction
    with the write lock held, so a second runner waits (busy timeout) and then reads
    only what is still queued. PostgreSQL claims rows with ``SKIP LOCKED`` instead.
    """
    if dialect == "sqlite":
        session.execute(sa.delete(ScoreQueue).where(sa.false()))


def score_pending(db: Database, *, model: SentimentModel | None = None, batch_size: int = 500,
                  limit: int | None = None, now: datetime | None = None) -> int:
    """Analyse every queued mention (at most ``limit``); the number scored.

    Re-runnable: a second run finds nothing pending and writes nothing. On PostgreSQL
    each batch's queue rows are claimed with ``FOR UPDATE SKIP LOCKED`` so concurrent
    workers share the backlog; on SQLite each batch is read under the write lock, so
    concurrent runners take turns (:func:`_lock_for_claim`). A batch that loses a race
    to another writer is rolled back and re-read.
    """
    model = model or get_model()
    now = now or datetime.now(timezone.utc)
    with db.session() as session:
        catalog = load_catalog(session)
        vocab = vocabulary.from_session(session)
    done, after, races = 0, 0, 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        try:
            with db.session() as session:
                _lock_for_claim(session, db.dialect)
                claimed = session.exec(_pending_query(after, size, db.dialect)).all()
                if not claimed:
                    break
                rows = _still_pending(session, claimed)
                analyses = analyse(_inputs(rows), catalog, model, now, vocab) if rows else []
                _write(session, analyses)
                taken = [m.id for m, _ in claimed]
                session.execute(sa.delete(ScoreQueue).where(ScoreQueue.mention_id.in_(taken)))
        except sa.exc.IntegrityError:
            # another writer without row locks (a rescore) got there first: re-read
            races += 1
            if races > MAX_RACES:
                raise
            continue
        after = claimed[-1][0].id
        done += len(analyses)
    return done


def _still_pending(session: Session, claimed: Sequence[Any]) -> list[Any]:
    """The claimed rows that still have no analysis.

    A queue row outliving its mention's analysis should not happen (both change in one
    transaction), but a writer outside this stage may have scored the mention; such a
    row is only dequeued, never analysed twice.
    """
    ids = [m.id for m, _ in claimed]
    done = set(session.exec(select(MentionAnalysis.mention_id).where(MentionAnalysis.mention_id.in_(ids))).all())
    return [r for r in claimed if r[0].id not in done] if done else list(claimed)


def rescore(db: Database, model: SentimentModel, since: datetime | None = None, *,
            batch_size: int = 500, now: datetime | None = None) -> int:
    """Replace the analyses of mentions published at or after ``since`` (all when None).

    Each batch deletes the old rows and writes the new ones in one transaction, so a
    mention is never seen as pending half-way; the days touched are marked dirty.
    Mentions never scored are left to :func:`score_pending`; mentions whose raw text retention
    removed keep the analysis they have. Returns the number rescored.
    """
    now = now or datetime.now(timezone.utc)
    with db.session() as session:
        catalog = load_catalog(session)
        vocab = vocabulary.from_session(session)
    done, after = 0, 0
    while True:
        with db.session() as session:
            q = (
                select(Mention, Source)
                .join(Source, Source.id == Mention.source_id, isouter=True)
                .join(MentionAnalysis, MentionAnalysis.mention_id == Mention.id)
                .where(Mention.id > after, Mention.pruned_at.is_(None))  # pruned: no text left to score
                .order_by(Mention.id)
                .limit(batch_size)
            )
            if since is not None:
                q = q.where(MentionAnalysis.published_at >= since)
            rows = session.exec(q).all()
            if not rows:
                break
            after = rows[-1][0].id
            ids = [m.id for m, _ in rows]
            session.execute(sa.delete(MentionTouchpoint).where(MentionTouchpoint.mention_id.in_(ids)))
            session.execute(sa.delete(MentionAnalysis).where(MentionAnalysis.mention_id.in_(ids)))
            _write(session, analyse(_inputs(rows), catalog, model, now, vocab))
        done += len(rows)
    return done
