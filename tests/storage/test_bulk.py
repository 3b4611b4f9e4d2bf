"""storage.bulk.insert_rows: the same rows on every backend (COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from storage import Database
from storage.bulk import insert_rows
from storage.models import Mention, MentionAnalysis, MentionTouchpoint

AT = datetime(2026, 11, 20, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=8)))


def _mention(db: Database) -> int:
    with db.session() as s:
        m = Mention(source_id="s", external_id="1", text="奶茶好喝", published_at=AT, collected_at=AT, content_hash="h")
        s.add(m)
        s.flush()
        return m.id


def _analysis(mention_id: int) -> dict:
    return {"mention_id": mention_id, "published_at": AT, "platform": "微博", "brand_id": "b", "region_id": None,
            "store_id": None, "product_id": None, "link_confidence": 0.5,
            "links": [{"kind": "brand", "id": "b", "why": "别名 \"喜茶\"\t\\ 换行\n"}], "model": "m",
            "model_version": "1", "score": 0.25, "label": "negative", "urgent": True, "urgent_terms": ["拉肚子"],
            "keywords": [], "counted": True, "scored_at": AT}


def test_rows_round_trip_with_json_quoted_columns_and_escapes(db: Database) -> None:
    mid = _mention(db)
    with db.session() as s:
        insert_rows(s, MentionAnalysis.__table__, [_analysis(mid)])
        insert_rows(s, MentionTouchpoint.__table__, [
            {"mention_id": mid, "touchpoint": "service", "polarity": "negative", "score": 0.1,
             "evidence": "态度\t差\\n", "start": 0, "end": 4}])
        insert_rows(s, MentionTouchpoint.__table__, [])  # nothing to do
    with db.session() as s:
        a = s.exec(select(MentionAnalysis)).one()
        t = s.exec(select(MentionTouchpoint)).one()
    expected = _analysis(mid)
    assert a.model_dump() == expected and a.published_at.utcoffset() == timedelta(0)
    assert (t.evidence, t.start, t.end) == ("态度\t差\\n", 0, 4)


def test_a_duplicate_key_raises_integrity_error_and_writes_nothing(db: Database) -> None:
    mid = _mention(db)
    with db.session() as s:
        insert_rows(s, MentionAnalysis.__table__, [_analysis(mid)])
    with pytest.raises(sa.exc.IntegrityError):
        with db.session() as s:
            insert_rows(s, MentionTouchpoint.__table__, [
                {"mention_id": mid, "touchpoint": "price", "polarity": "neutral", "score": 0.5, "evidence": "",
                 "start": 0, "end": 0}])
            insert_rows(s, MentionAnalysis.__table__, [_analysis(mid)])
    with db.session() as s:  # the session is usable again and the failed transaction left nothing
        assert s.exec(select(MentionTouchpoint)).all() == []
        assert len(s.exec(select(MentionAnalysis)).all()) == 1
