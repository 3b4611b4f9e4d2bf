"""Exploration for issue 13: NB log-count-ratio (NBSVM-style) tf-idf features and a tfidf + TF-IDF+LR ensemble.

    nice -n 10 .venv/bin/python bench/sentiment_nbsvm.py [DATA_DIR]

Training pool of :func:`nlp.train.evaluation_split` only (never its held-out sets),
a 30,000-example random subsample (seed 1) to keep the run short on shared cores, 3 folds;
out-of-fold decisions, one Platt fit each, macro-F1 per domain. Rows: the shipped
``tfidf`` recipe, the same features scaled by the NB log-count ratio of the fold's
training rows, TF-IDF + LR, and the mean of the tfidf and TF-IDF+LR decisions.
"""
import random
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp import metrics  # noqa: E402
from nlp.train import (DEFAULT_DATA, RECIPES, baseline_vectorizer, design, domain_weights,  # noqa: E402
                       evaluation_split, fit_linear, platt)
from sklearn.linear_model import LogisticRegression  # noqa: E402

pool, _ = evaluation_split(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA)
random.Random(1).shuffle(pool); pool = pool[:30000]
y = np.array([r.label for r in pool]); dom = np.array([r.domain for r in pool]); texts=[r.text for r in pool]
fold = np.arange(len(pool)) % 3
x = design(texts, RECIPES['tfidf'], idf_texts=texts); w = np.array(domain_weights(pool))
xb = baseline_vectorizer().fit_transform(texts)
out = {k: np.zeros(len(pool)) for k in ('tfidf', 'nb', 'base', 'ens')}
for f in range(3):
    tr, te = fold != f, fold == f
    c, b = fit_linear(x[tr], y[tr], w[tr], 8.0); out['tfidf'][te] = x[te] @ c + b
    p = np.asarray(x[tr][y[tr] == 1].sum(0)).ravel() + 1; q = np.asarray(x[tr][y[tr] == 0].sum(0)).ravel() + 1
    r = np.log((p / p.sum()) / (q / q.sum()))
    xn = x @ sparse.diags(r)
    c2, b2 = fit_linear(xn[tr], y[tr], w[tr], 8.0); out['nb'][te] = xn[te] @ c2 + b2
    clf = LogisticRegression(max_iter=1000).fit(xb[tr], y[tr]); out['base'][te] = clf.decision_function(xb[te])
out['ens'] = (out['tfidf'] + out['base']) / 2
for k, z in out.items():
    a, b = platt(z, y); pr = 1 / (1 + np.exp(-(a * z + b)))
    print(k, {d: round(metrics.macro_f1(y[dom == d], pr[dom == d]), 4) for d in sorted(set(dom))}, flush=True)
