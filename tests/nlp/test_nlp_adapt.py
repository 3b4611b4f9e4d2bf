"""``nlp adapt`` and ``nlp rescore --since`` end to end on small synthetic data (every backend).

The base data speaks plain Chinese (好吃 / 难吃 …); one chain's reviews speak slang the
base never saw (绝绝子 / 踩雷 …), so only a model that learned from the chain's ratings
can read them, and adapt must promote it; another chain's reviews use the base's own
words, so the candidate cannot be better and adapt must keep the base.
"""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from functools import partial
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from nlp.adapt import adapt, chain_examples
from nlp.ratings import rating_label
from nlp.errors import AdaptError
from nlp.pipeline import score_pending
from nlp.registry import current_model, record, validation_figures
from nlp.train import RECIPE, train
from storage.corrections import Target, record_correction
from storage.models import Mention, MentionAnalysis, ModelRecord, Source
from tingfeng.commands.nlp import app

RECIPE_SMALL = replace(RECIPE, spec=replace(RECIPE.spec, bits=16), c=4.0)  # the shipped recipe, small and fast
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
FILLER = ["今天", "我们", "去了", "那家", "点了", "一份", "感觉", "这次", "外卖", "朋友说"]
BASE_WORDS = {1: ["好吃", "很棒", "喜欢", "满意"], 0: ["难吃", "很差", "讨厌", "失望"]}
SLANG = {1: ["绝绝子", "yyds", "封神"], 0: ["踩雷", "拔草", "避雷"]}


def _text(rng: random.Random, words: dict[int, list[str]], label: int) -> str:
    parts = rng.sample(FILLER, 3) + [rng.choice(words[label])]
    rng.shuffle(parts)
    return "".join(parts)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four training files nlp.train reads, small and synthetic."""
    out = tmp_path_factory.mktemp("sentiment")
    rng = random.Random(5)
    for name in ("online_shopping_10_cats_train", "weibo_senti_100k_train", "waimai_10k_train", "chnsenticorp_train"):
        with open(out / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text", "label"])
            for i in range(80):
                w.writerow([f"{name}-{i}", _text(rng, BASE_WORDS, i % 2), i % 2])
    return out


@pytest.fixture(scope="module")
def base_artifact(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base") / "base.npz"
    train(data_dir, path, recipe=RECIPE_SMALL, log=lambda _: None)
    return path


def _promote_base(db, path: Path):
    from nlp.models.ngram import NgramModel

    base = NgramModel(path)
    record(db, base.name, base.version, validation_figures(base.metadata), artifact=path, promote=True, now=T0)
    return base


def _store_rated(db, words: dict[int, list[str]], n: int = 60, seed: int = 9) -> None:
    rng = random.Random(seed)
    with db.session() as s:
        s.add(Source(id="dp", type="file", platform="dianping"))
        for i in range(n):
            label = i % 2
            ts = T0 + timedelta(days=i % 20)
            s.add(Mention(source_id="dp", external_id=str(i), kind="review", text=_text(rng, words, label),
                          rating=rng.choice([4.0, 5.0]) if label else rng.choice([1.0, 2.0]),
                          published_at=ts, collected_at=ts, content_hash=f"h{i}"))
        ts = T0 + timedelta(days=30)
        s.add(Mention(source_id="dp", external_id="three-stars", kind="review", text="一般般吧", rating=3.0,
                      published_at=ts, collected_at=ts, content_hash="h3s"))


def _adapt(db, data_dir, tmp_path):
    return adapt(db, tmp_path / "models", data_dir=data_dir, folds=3, recipe=RECIPE_SMALL, now=T0 + timedelta(days=40))


def test_star_ratings_become_labels_and_three_stars_are_left_out():
    assert [rating_label(r) for r in (None, 0.0, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)] == [
        None, None, 0, 0, None, None, None, 1, 1]


def test_adapt_promotes_a_candidate_that_reads_the_chain_better(db, data_dir, base_artifact, tmp_path):
    base = _promote_base(db, base_artifact)
    _store_rated(db, SLANG)
    result = _adapt(db, data_dir, tmp_path)
    assert result.promoted and result.n_examples == 60
    assert result.candidate_macro_f1 > result.base_macro_f1 + 0.2
    with db.session() as s:
        rows = {(r.name, r.version): r for r in s.exec(select(ModelRecord))}
    cand = rows[tuple(result.candidate.split(" "))]
    assert cand.promoted_at is not None and Path(cand.artifact_path).is_file()
    assert cand.figures["cv"]["candidate_macro_f1"] == round(result.candidate_macro_f1, 4)
    assert cand.figures["cv"]["base_macro_f1"] == round(result.base_macro_f1, 4)
    assert set(cand.figures["validation"]) >= {"chain", "waimai"}
    assert 0 <= cand.figures["rates"]["fpr"] < cand.figures["rates"]["tpr"] <= 1  # adjusted counting keeps working
    assert rows[(base.name, base.version)].figures["cv_as_base"]["base"] == f"{base.name} {base.version}"
    assert current_model(db).version == cand.version


def test_adapt_keeps_the_base_when_the_candidate_is_not_better(db, data_dir, base_artifact, tmp_path):
    base = _promote_base(db, base_artifact)
    _store_rated(db, BASE_WORDS)
    result = _adapt(db, data_dir, tmp_path)
    assert not result.promoted and result.candidate_macro_f1 <= result.base_macro_f1
    with db.session() as s:
        cand = s.exec(select(ModelRecord).where(ModelRecord.name == "ngram-lr-chain")).one()
    assert cand.promoted_at is None and cand.figures["cv"]["n_examples"] == 60
    assert (current_model(db).name, current_model(db).version) == (base.name, base.version)


class Undecided:
    """Labels everything neutral, so any sentiment correction changes something."""

    name, version, metadata = "undecided", "1", {}

    def score(self, texts):
        return [0.5] * len(texts)


def test_corrections_feed_adapt_and_too_few_labels_are_refused(db, data_dir, tmp_path):
    _store_rated(db, SLANG, n=12)
    with pytest.raises(AdaptError, match="too few labelled mentions"):
        _adapt(db, data_dir, tmp_path)
    score_pending(db, model=Undecided(), now=T0)
    with db.session() as s:
        ids = {m.external_id: m.id for m in s.exec(select(Mention))}
    record_correction(db, Target(ids["three-stars"]), "negative", by="u")  # unrated by stars, labelled by hand
    record_correction(db, Target(ids["1"]), "negative", by="u")  # 4–5 stars, but the correction wins
    record_correction(db, Target(ids["3"]), "negative", by="u")  # stars already said positive
    record_correction(db, Target(ids["3"]), "neutral", by="u")  # the latest: no longer an example
    examples, from_corrections = chain_examples(db)
    by_id = {e.id: e.label for e in examples}
    assert from_corrections == 2 and len(examples) == 12
    assert by_id[f"m{ids['three-stars']}"] == 0 and by_id[f"m{ids['1']}"] == 0
    assert f"m{ids['3']}" not in by_id and by_id[f"m{ids['5']}"] == 1


def test_rescore_since_rescores_only_that_range_and_is_idempotent(db, data_dir, base_artifact, tmp_path, monkeypatch):
    _store_rated(db, SLANG)
    base = _promote_base(db, base_artifact)
    score_pending(db, model=base, now=T0)
    result = _adapt(db, data_dir, tmp_path)
    assert result.promoted
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("TINGFENG_SENTIMENT_MODEL", raising=False)
    since = T0 + timedelta(days=10)

    def snapshot():
        with db.session() as s:
            return [(a.mention_id, a.published_at >= since, a.model, a.model_version, a.score, a.label)
                    for a in s.exec(select(MentionAnalysis).order_by(MentionAnalysis.mention_id))]

    runner = CliRunner()
    out = runner.invoke(app, ["rescore", "--since", since.date().isoformat()])
    assert out.exit_code == 0, out.output
    first = snapshot()
    n_after = sum(1 for row in first if row[1])
    assert f"rescored {n_after} mention(s) with {result.candidate}" in out.output
    assert {(r[2], r[3]) for r in first if r[1]} == {tuple(result.candidate.split(" "))}
    assert {(r[2], r[3]) for r in first if not r[1]} == {(base.name, base.version)}
    again = runner.invoke(app, ["rescore", "--since", since.date().isoformat()])
    assert again.exit_code == 0 and snapshot() == first
    bad = runner.invoke(app, ["rescore", "--since", "last tuesday"])
    assert bad.exit_code != 0 and "is not a date" in bad.output


def test_adapt_command_reports_both_figures_and_refuses_without_enough_labels(db, data_dir, base_artifact, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TINGFENG_DATA_DIR", str(tmp_path / "var"))
    import nlp.adapt

    monkeypatch.setattr(nlp.adapt, "adapt", partial(nlp.adapt.adapt, recipe=RECIPE_SMALL))  # small and fast
    runner = CliRunner()
    none = runner.invoke(app, ["adapt", "--data", str(data_dir), "--folds", "3"])
    assert none.exit_code == 1 and "too few labelled mentions to adapt: 0 negative and 0 positive" in none.output
    _promote_base(db, base_artifact)
    _store_rated(db, SLANG)
    out = runner.invoke(app, ["adapt", "--data", str(data_dir), "--folds", "3"])
    assert out.exit_code == 0, out.output
    assert "60 labelled mentions (0 from corrections), 3-fold CV" in out.output and "→ promoted" in out.output
    assert list((tmp_path / "var" / "models").glob("ngram-lr-chain-*.npz"))


def _recipe_in_meta(meta: dict) -> dict:
    """The recipe settings an artifact's metadata records (nlp.train.fit_model)."""
    social = meta.get("social") or {}
    return {"weighting": meta["weighting"], "domain_weights": meta["domain_weights"], "C": meta["C"],
            "bits": meta["hash_bits"], "max_n": meta["max_n"], "contrast": meta["contrast"],
            "social": social.get("domain", ""), "social_C": social.get("C"), "router_C": social.get("router_C"),
            "gate": (social.get("gate_k"), social.get("gate_t"))}


def _recipe_settings(recipe) -> dict:
    return {"weighting": recipe.weighting, "domain_weights": recipe.domain_weights, "C": recipe.c,
            "bits": recipe.spec.bits, "max_n": recipe.spec.max_n, "contrast": recipe.spec.contrast,
            "social": recipe.social, "social_C": recipe.social_c if recipe.social else None,
            "router_C": recipe.router_c if recipe.social else None,
            "gate": (recipe.gate_k, recipe.gate_t) if recipe.social else (None, None)}


def test_adapt_trains_its_candidates_with_the_recipe_of_the_shipped_model(db, data_dir, base_artifact, tmp_path,
                                                                          monkeypatch):
    """Without ``recipe=`` (as ``tingfeng nlp adapt`` calls it) every candidate is fitted with the recipe the
    shipped artifact records, so re-shipping with a new recipe cannot leave adapt on the old one."""
    import nlp.adapt
    from nlp.models.ngram import load_artifact

    seen = []

    def spy(data_dir, out, *, recipe, **kw):
        seen.append(recipe)
        return train(data_dir, out, recipe=RECIPE_SMALL, **kw)  # fitted small and fast, the recipe recorded

    monkeypatch.setattr(nlp.adapt, "train", spy)
    _promote_base(db, base_artifact)
    _store_rated(db, SLANG)
    result = adapt(db, tmp_path / "models", data_dir=data_dir, folds=3, now=T0 + timedelta(days=40))
    shipped = _recipe_in_meta(load_artifact()[1])
    assert len(seen) == 4  # 3 folds + the final candidate
    assert all(_recipe_settings(r) == shipped for r in seen), (shipped, _recipe_settings(seen[0]))
    candidate = load_artifact(result.artifact)[1]
    assert candidate["social"]["domain"] == shipped["social"] and candidate["social"]["gate_t"] == shipped["gate"][1]
