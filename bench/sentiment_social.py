"""Issue 13: cross-validated choice of a social head (Weibo) with a router, against TF-IDF + LR and ``tfidf``.

    nice -n 10 .venv/bin/python bench/sentiment_social.py [DATA_DIR] [N]

Training pool of :func:`nlp.train.evaluation_split` only (never its held-out sets), the
first ``N`` examples after a seeded shuffle (default: all), 3 folds; out-of-fold decisions.
Heads, all over the ``tfidf`` recipe's features: ``g`` the ``tfidf`` recipe (every domain,
domain weights, C 8); ``w1`` / ``w2`` fitted on Weibo only (C 1 / 2); ``det`` a router
(Weibo vs the rest, C 8); ``det_aug`` the router also fitted on Weibo texts without their
emoticons. Each sentiment head is Platt-calibrated on the out-of-fold scores of its own
texts; ``hard`` routes by the router at 0.5, ``soft`` mixes the two calibrated logits by
the router's probability, ``oracle`` routes by the true domain; ``gate k t`` mixes by
``sigmoid(k · (router − t))`` (:func:`nlp.models.ngram.mix_logits`; recipe
``tfidf-social`` ships k 2, t 3, chosen out of domain by ``bench/sentiment_gate_lodo.py``;
k 2, t 1 is the best mean over the three domains here). ``weibo_noemo``: the Weibo
rows with every ``[表情]`` removed, scored by the same fold models. Prints macro-F1 per domain.
"""
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sklearn.linear_model import LogisticRegression  # noqa: E402

from nlp import metrics  # noqa: E402
from nlp.train import (DEFAULT_DATA, RECIPES, baseline_vectorizer, design, domain_weights,  # noqa: E402
                       evaluation_split, fit_idf, fit_linear, platt)

EMO = re.compile(r"\[[^\[\]\s]{1,8}\]")
data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10 ** 9
pool, _ = evaluation_split(data)
random.Random(1).shuffle(pool)
pool = pool[:N]
y = np.array([r.label for r in pool])
dom = np.array([r.domain for r in pool])
texts = [r.text for r in pool]
isw = dom == "weibo"
fold = np.arange(len(pool)) % 3
t0 = time.time()
R = RECIPES["tfidf"]
idf = fit_idf(texts, R.spec)
x = design(texts, R, idf=idf)
w = np.array(domain_weights(pool))
wi = np.flatnonzero(isw)
xs = design([EMO.sub("", texts[i]) for i in wi], R, idf=idf)
vec = baseline_vectorizer()
xb = vec.fit_transform(texts)
xbs = vec.transform([EMO.sub("", texts[i]) for i in wi])
print("features", round(time.time() - t0), "s", flush=True)
n = len(pool)
Z = {k: np.zeros(n) for k in ("g", "base", "w1", "w2", "det", "det_aug")}
ZS = {k: np.zeros(len(wi)) for k in Z}
fold_s = fold[wi]
for f in range(3):
    tr, te = fold != f, fold == f
    tes = fold_s == f

    def put(k, c, b):  # noqa: ANN001, ANN202
        Z[k][te] = x[te] @ c + b
        ZS[k][tes] = xs[tes] @ c + b

    put("g", *fit_linear(x[tr], y[tr], w[tr], 8.0))
    clf = LogisticRegression(max_iter=1000).fit(xb[tr], y[tr])
    Z["base"][te] = clf.decision_function(xb[te])
    ZS["base"][tes] = clf.decision_function(xbs[tes])
    trw = tr & isw
    put("w1", *fit_linear(x[trw], y[trw], np.ones(trw.sum()), 1.0))
    put("w2", *fit_linear(x[trw], y[trw], np.ones(trw.sum()), 2.0))
    put("det", *fit_linear(x[tr], isw[tr].astype(int), np.ones(tr.sum()), 8.0))
    trs = np.flatnonzero(~tes)
    xaug = sparse.vstack([x[tr], xs[trs]]).tocsr()
    yaug = np.concatenate([isw[tr], np.ones(len(trs))]).astype(int)
    put("det_aug", *fit_linear(xaug, yaug, np.ones(len(yaug)), 8.0))
    print("fold", f, round(time.time() - t0), "s", flush=True)
ys = y[wi]


def F(yy, z):  # noqa: ANN001, ANN201, N802
    return round(metrics.macro_f1(yy, 1 / (1 + np.exp(-z))), 4)


def cal(z, zs, m):  # noqa: ANN001, ANN201
    a, b = platt(z[m], y[m])
    return a * z + b, a * zs + b


def rep(name, z, zs):  # noqa: ANN001, ANN201
    d = {str(dd): F(y[dom == dd], z[dom == dd]) for dd in sorted(set(dom))}
    d["weibo_noemo"] = F(ys, zs)
    print(name, d, flush=True)


rep("TF-IDF+LR", Z["base"], ZS["base"])
rep("tfidf", *cal(Z["g"], ZS["g"], np.ones(n, bool)))
for dk in ("det", "det_aug"):
    s, ss = 1 / (1 + np.exp(-Z[dk])), 1 / (1 + np.exp(-ZS[dk]))
    print(dk, "router accuracy: weibo", round((s[isw] > .5).mean(), 4), "reviews", round((s[~isw] < .5).mean(), 4),
          "weibo without emoticons", round((ss > .5).mean(), 4))
    for hk in ("w1", "w2"):
        hw, hws = cal(Z[hk], ZS[hk], isw)
        gg, ggs = cal(Z["g"], ZS["g"], ~isw)
        rep(f"{dk}/{hk} hard", np.where(s > .5, hw, gg), np.where(ss > .5, hws, ggs))
        rep(f"{dk}/{hk} soft", s * hw + (1 - s) * gg, ss * hws + (1 - ss) * ggs)
        rep(f"{dk}/{hk} oracle", np.where(isw, hw, gg), hws)
# the gate sigmoid(k * (router - t)) of recipe tfidf-social (router "det", social head "w2"):
# t > 0 keeps texts the router is unsure of on the general head
hw, hws = cal(Z["w2"], ZS["w2"], isw)
gg, ggs = cal(Z["g"], ZS["g"], ~isw)
for k in (1, 2, 4):
    for t in (0, 1, 2, 3):
        s, ss = 1 / (1 + np.exp(-k * (Z["det"] - t))), 1 / (1 + np.exp(-k * (ZS["det"] - t)))
        rep(f"gate k {k} t {t}", gg + s * (hw - gg), ggs + ss * (hws - ggs))
