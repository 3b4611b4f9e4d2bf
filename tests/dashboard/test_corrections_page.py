"""AppTest: marketing corrects a mention on the mentions page; the 模型 page shows the
model in force, its validation figures and the correction rate (every backend)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Correction, MentionAnalysis, MentionTouchpoint, ModelRecord, Rollup, utcnow
from tests.dashboard.test_pages import _frames_text, _login


def _store_day_counts(db, store_id: str, bucket) -> tuple[int, int, int]:  # noqa: ANN001
    with db.session() as s:
        r = s.exec(select(Rollup).where(Rollup.grain == "day", Rollup.scope_type == "store",
                                        Rollup.scope_id == store_id, Rollup.bucket == bucket)).one()
    return r.positive, r.neutral, r.negative


def _day_bucket(db, store_id: str, published):  # noqa: ANN001, ANN202
    with db.session() as s:
        return s.exec(select(Rollup.bucket).where(Rollup.grain == "day", Rollup.scope_type == "store",
                                                  Rollup.scope_id == store_id, Rollup.bucket <= published)
                      .order_by(Rollup.bucket.desc()).limit(1)).one()


def test_marketing_corrects_sentiment_and_touchpoint_and_the_counts_follow(seeded, make_app) -> None:
    db, _ = seeded
    at = _login(make_app(db, auth="local"), "market")
    at.switch_page("views/mentions.py").run()
    mid = int(at.selectbox(key="fix_id").value)
    with db.session() as s:
        a = s.get(MentionAnalysis, mid)
    old, store = a.label, a.store_id
    new = "negative" if old != "negative" else "positive"
    bucket = _day_bucket(db, store, a.published_at)
    before = _store_day_counts(db, store, bucket)

    at.selectbox(key="fix_label").set_value(new).run()
    at.button(key="fix_submit").click().run()
    assert not at.exception
    assert "已更正提及" in at.success[0].value
    with db.session() as s:
        c = s.exec(select(Correction)).one()
        assert s.get(MentionAnalysis, mid).label == new
    assert (c.mention_id, c.kind, c.old_label, c.new_label, c.corrected_by) == (mid, "sentiment", old, new, "market")
    after = _store_day_counts(db, store, bucket)
    idx = {"positive": 0, "neutral": 1, "negative": 2}
    assert after[idx[new]] == before[idx[new]] + 1 and after[idx[old]] == before[idx[old]] - 1

    at.selectbox(key="fix_id").set_value(mid).run()
    at.radio(key="fix_kind").set_value("touchpoint").run()
    at.selectbox(key="fix_tp").set_value("price").run()
    at.selectbox(key="fix_label").set_value("negative").run()
    at.button(key="fix_submit").click().run()
    assert not at.exception and "已更正提及" in at.success[0].value
    with db.session() as s:
        tps = {(t.touchpoint, t.polarity) for t in s.exec(select(MentionTouchpoint).where(
            MentionTouchpoint.mention_id == mid))}
        n = len(s.exec(select(Correction)).all())
    assert ("price", "negative") in tps and n == 2

    assert "负面" not in at.selectbox(key="fix_label").options  # the label in force is not offered again
    assert "与该触点无关" in at.selectbox(key="fix_label").options

    at.switch_page("views/models.py").run()
    assert not at.exception
    rates = at.dataframe[0].value
    row = rates[rates["模型"] == "test 1"].iloc[0]
    assert (row["被更正提及"], row["情感更正"], row["触点更正"]) == (1, 1, 1)
    assert row["更正率"] == 1 / row["当前打分条数"]


def test_managers_cannot_correct(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = _login(make_app(db, auth="local"), "wang")
    at.switch_page("views/mentions.py").run()
    assert not at.exception
    assert "fix_submit" not in {b.key for b in at.button}


def test_model_page_shows_the_model_in_force_and_its_figures(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    with db.session() as s:
        s.add(ModelRecord(name="ngram-lr", version="1.base", created_at=utcnow(), promoted_at=utcnow(),
                          figures={"validation": {"waimai": 0.85}}))
        s.add(ModelRecord(name="ngram-lr-chain", version="1.chain", created_at=utcnow(), promoted_at=utcnow(),
                          artifact_path="/srv/models/x.npz",
                          figures={"validation": {"waimai": 0.9, "chain": 0.93}, "rates": {"tpr": 0.9, "fpr": 0.05},
                                   "cv": {"base": "ngram-lr 1.base", "base_macro_f1": 0.84, "candidate_macro_f1": 0.88,
                                          "n_examples": 500, "folds": 5}}))
    at = make_app(db).run().switch_page("views/models.py").run()
    assert not at.exception
    assert at.subheader[0].value == "当前模型：ngram-lr-chain 1.chain"
    validation = at.dataframe[0].value
    assert dict(zip(validation["领域"], validation["macro-F1"])) == {"外卖评价": 0.9, "本品牌评价（评分与更正）": 0.93}
    page = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert "0.840" in page and "0.880" in page and "fpr 5.0%" in page
    versions = _frames_text(at)
    assert "0.840 → 0.880" in versions and "ngram-lr 1.base" in versions
