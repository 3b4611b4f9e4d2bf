"""The shipped models: registry, protocol, labels, and loading from the package alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nlp
from nlp.errors import UnknownModel
from nlp.models import DEFAULT_MODEL, SentimentModel, available_models, get_model, label_for


def test_registry():
    assert available_models()[0] == DEFAULT_MODEL
    assert {"snownlp", "ngram-lr"} <= set(available_models())
    with pytest.raises(UnknownModel, match="available"):
        get_model("nope")
    assert get_model() is get_model(DEFAULT_MODEL)


def test_default_model_scores_and_is_calibrated_enough():
    m = get_model()
    assert isinstance(m, SentimentModel) and m.name == DEFAULT_MODEL and m.version
    pos, neg, empty = m.score(["味道很好，服务也热情，下次还来", "太难吃了，态度还差，再也不来", ""])
    assert pos > 0.8 and neg < 0.2 and empty == 0.5  # nothing to go on: neutral, not negative
    assert m.score([]) == []
    meta = m.metadata
    assert 0 < meta["fpr"] < meta["tpr"] < 1 and meta["neutral_low"] < meta["neutral_high"]


def test_negation_matters():
    m = get_model()
    good, not_good = m.score(["好吃", "不好吃"])
    assert good > 0.5 > not_good


def test_labels():
    assert [label_for(p) for p in (0.1, 0.5, 0.9)] == ["negative", "neutral", "positive"]


def test_model_loads_from_the_package_alone(tmp_path):
    """A copy of the package, run from an empty directory with no ../shared: it loads and scores,
    and opens no file outside its own package and the Python installation."""
    site = tmp_path / "site"
    shutil.copytree(Path(nlp.__file__).parent, site / "nlp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(Path(nlp.__file__).parent.parent / "storage", site / "storage",
                    ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "empty"
    work.mkdir()
    code = (
        "import sys, json\n"
        "opened = []\n"
        "sys.addaudithook(lambda ev, args: opened.append(str(args[0])) if ev == 'open' else None)\n"
        "import nlp.models\n"
        "m = nlp.models.get_model()\n"
        "p = m.score(['味道很好', '难吃'])\n"
        "print(json.dumps({'file': nlp.__file__, 'p': p, 'opened': opened}))\n"
    )
    import numpy

    # -S: no site hooks, so the repository's editable install cannot supply the package
    deps = Path(numpy.__file__).parent.parent
    env = {"PYTHONPATH": f"{site}:{deps}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-S", "-c", code], cwd=work, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["file"].startswith(str(site))
    assert out["p"][0] > 0.5 > out["p"][1]
    assert not [f for f in out["opened"] if "shared" in f or "sentiment/" in f]
    assert [f for f in out["opened"] if f.endswith(".npz")] == [str(site.resolve() / "nlp/models/data/ngram_lr.npz")]


def test_scores_do_not_depend_on_the_batch():
    m = get_model()
    texts = ["味道很好", "", "不好吃\n再也不来", "ＡＰＰ點單很方便", "送餐太慢了 [怒]"]
    together = m.score(texts)
    alone = [m.score([t])[0] for t in texts]
    assert together == pytest.approx(alone, abs=1e-12)


def test_hashing_marks_negation_scope_within_a_clause():
    from nlp.models.hashing import HashSpec, buckets

    spec = HashSpec(bits=16, max_n=3)
    _, plain = buckets(["好吃"], spec)
    _, negated = buckets(["不好吃"], spec)
    _, closed = buckets(["不，好吃"], spec)
    assert len(negated) == 6 + 3  # 不 好 吃 不好 好吃 不好吃 + negated 好 吃 好吃
    assert set(plain) < set(negated)
    assert len(closed) == 4 + 3 + 2  # 不 , 好 吃 不, ,好 好吃 不,好 ,好吃: the comma ends the scope, nothing negated


def test_bucket_counts_count_repeats_and_mark_the_clause_after_but():
    from nlp.models.hashing import HashSpec, bucket_counts, buckets

    spec = HashSpec(bits=16, max_n=1)
    rows, cols, counts = bucket_counts(["好好好吃"], spec)
    assert sorted(counts.tolist()) == [1, 3]  # 好 three times, 吃 once
    assert cols.tolist() == buckets(["好好好吃"], spec)[1].tolist()
    plain = set(buckets(["贵但好吃。"], spec)[1])
    marked = set(buckets(["贵但好吃。"], HashSpec(bits=16, max_n=1, contrast=True))[1])
    assert len(marked - plain) == 3  # 但 好 吃 hashed again; 贵 (before 但) and 。 not
    closed = set(buckets(["好吃。贵"], HashSpec(bits=16, max_n=1, contrast=True))[1])
    assert closed == set(buckets(["好吃。贵"], spec)[1])  # no contrast word: nothing extra


def test_tfidf_artifact_scores_as_training_computed(tmp_path):
    """Training and inference compute the same tf-idf features: the loaded model's linear
    score equals the training design matrix times the shipped weights."""
    import numpy as np

    from nlp.models.hashing import HashSpec
    from nlp.models.ngram import NgramModel, save_artifact
    from nlp.train import Example, Recipe, calibration_split, design, fit_model

    pos = ["好吃好吃", "味道很好", "服务热情，下次还来", "很好很好很好", "不错，推荐"]
    neg = ["难吃", "太慢了", "不好吃，再也不来", "态度差", "贵但难吃。"]
    pool = [Example(f"{d}{i}", t, y, d) for d in ("a", "b") for y, texts in ((1, pos), (0, neg))
            for i, t in enumerate(texts * 4)]
    recipe = Recipe(HashSpec(bits=14, max_n=2, contrast=True), weighting="tfidf", c=4.0)
    fitted = fit_model(*calibration_split(pool), recipe, log=lambda _: None)
    assert fitted.meta["weighting"] == "tfidf" and fitted.meta["version"].startswith("2.")
    path = tmp_path / "m.npz"
    save_artifact(path, fitted.weights, fitted.meta, idf=fitted.idf)
    model = NgramModel(path)
    texts = ["好吃，但是太慢了。", "很好很好", "难吃难吃难吃"]
    z, counts = model.decision(texts)
    expected = design(texts, recipe, idf=fitted.idf) @ fitted.weights.astype(np.float64) + fitted.meta["intercept"]
    assert z == pytest.approx(expected, abs=1e-6) and (counts > 0).all()
    p = model.score(["好吃好吃", "难吃"])
    assert p[0] > 0.5 > p[1]


def test_social_head_artifact_scores_as_training_computed(tmp_path):
    """A recipe with a social head ships three weight vectors; the loaded model mixes them exactly as
    training calibrated them, and a word whose sense flips between Weibo and reviews is scored by the
    head of the text's own kind (the router), not by the pooled head."""
    import numpy as np

    from nlp.models.hashing import HashSpec
    from nlp.models.ngram import NgramModel, mix_logits
    from nlp.train import Example, Recipe, calibration_split, design, fit_model

    social_pos = ["绝了[哈哈]", "太绝了[哈哈][哈哈]", "开心[哈哈]", "绝了绝了[爱你]"]
    social_neg = ["难过[泪]", "心累[泪][泪]", "哭了[泪]", "烦[怒]"]
    review_pos = ["快递很快，质量好", "质量不错，推荐", "很好，好评", "包装好，发货快"]
    review_neg = ["质量绝了，差", "绝了，坏了，退货", "发货慢，差评", "破损，差"]
    pool = [Example(f"{d}{y}{i}", t, y, d)
            for d, groups in (("weibo", ((1, social_pos), (0, social_neg))),
                              ("shop", ((1, review_pos), (0, review_neg))))
            for y, texts in groups for i, t in enumerate(texts * 5)]
    recipe = Recipe(HashSpec(bits=14, max_n=2), weighting="tfidf", c=4.0, social="weibo", social_c=4.0)
    fitted = fit_model(*calibration_split(pool), recipe, log=lambda _: None)
    assert fitted.meta["version"].startswith("3.") and set(fitted.heads) == {"social", "router"}
    path = tmp_path / "m.npz"
    fitted.save(path)
    model = NgramModel(path)
    texts = ["绝了[哈哈]", "绝了，坏了", "一般"]
    x = design(texts, recipe, idf=fitted.idf)
    head = fitted.meta["social"]
    z = [x @ fitted.weights.astype(np.float64) + fitted.meta["intercept"],
         x @ fitted.heads["social"].astype(np.float64) + head["intercept"],
         x @ fitted.heads["router"].astype(np.float64) + head["router_intercept"]]
    expected = 1.0 / (1.0 + np.exp(-mix_logits(*z, fitted.meta)))
    p = model.score(texts)
    assert p == pytest.approx(expected.tolist(), abs=1e-5)
    assert p[0] > 0.5 > p[1]


def test_social_recipe_without_its_domain_fits_one_head(tmp_path):
    """Leaving the social domain out (leave-one-domain-out, a chain without Weibo) gives a plain one-head model."""
    from nlp.models.hashing import HashSpec
    from nlp.models.ngram import NgramModel
    from nlp.train import Example, Recipe, calibration_split, fit_model

    pos, neg = ["好吃好吃", "味道很好", "不错，推荐"], ["难吃", "太慢了", "态度差"]
    pool = [Example(f"{d}{y}{i}", t, y, d) for d in ("a", "b") for y, texts in ((1, pos), (0, neg))
            for i, t in enumerate(texts * 5)]
    recipe = Recipe(HashSpec(bits=14, max_n=2), weighting="tfidf", social="weibo")
    fitted = fit_model(*calibration_split(pool), recipe, log=lambda _: None)
    assert fitted.meta["version"].startswith("2.") and not fitted.heads and "social" not in fitted.meta
    fitted.save(tmp_path / "m.npz")
    p = NgramModel(tmp_path / "m.npz").score(["好吃", "难吃"])
    assert p[0] > 0.5 > p[1]
