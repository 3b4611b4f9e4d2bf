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
