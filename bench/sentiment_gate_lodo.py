"""Issue 13: the social head's gate out of domain — fitted without a review domain, scored on that domain's training texts.

    nice -n 10 .venv/bin/python bench/sentiment_gate_lodo.py [DATA_DIR]

Training pool of :func:`nlp.train.evaluation_split` only (never its held-out sets). For
online_shopping and waimai: recipe ``tfidf-social`` fitted (``nlp.train.fit_model``, no
refit) on the pool without that domain, then scored on up to 5,000 of the left-out
domain's own pool texts (seeded sample) with the gate ``sigmoid(k · (router − t))`` at
several t, and with the general head alone. Prints macro-F1 per gate and the share of
texts the gate sends mostly (> 0.5) to the Weibo head.
"""
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp import metrics  # noqa: E402
from nlp.models.ngram import gate_share, mix_logits  # noqa: E402
from nlp.train import RECIPES, DEFAULT_DATA, calibration_split, design, evaluation_split, fit_model  # noqa: E402

data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
pool, _ = evaluation_split(data)
recipe = RECIPES["tfidf-social"]
for dom in ("waimai", "online_shopping"):
    rest = [r for r in pool if r.domain != dom]
    held = [r for r in pool if r.domain == dom]
    random.Random(3).shuffle(held)
    held = held[:5000]
    fitted = fit_model(*calibration_split(rest), recipe, refit_all=False, log=lambda _: None)
    x = design([r.text for r in held], recipe, idf=fitted.idf)
    y = np.array([r.label for r in held])
    head = fitted.meta["social"]
    z = (x @ fitted.weights.astype(np.float64) + fitted.meta["intercept"],
         x @ fitted.heads["social"].astype(np.float64) + head["intercept"],
         x @ fitted.heads["router"].astype(np.float64) + head["router_intercept"])
    general = fitted.meta["platt_a"] * z[0] + fitted.meta["platt_b"]
    out = {"general head only": round(metrics.macro_f1(y, 1 / (1 + np.exp(-general))), 4)}
    for k, t in ((1, 0), (2, 1), (2, 2), (2, 3), (2, 4), (4, 3)):
        meta = {**fitted.meta, "social": {**head, "gate_k": k, "gate_t": t}}
        p = 1 / (1 + np.exp(-mix_logits(*z, meta)))
        out[f"k {k} t {t}"] = (round(metrics.macro_f1(y, p), 4), round(float((gate_share(z[2], meta) > 0.5).mean()), 4))
    print(dom, len(held), out, flush=True)
