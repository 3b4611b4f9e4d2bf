"""Train the shipped n-gram sentiment model, reproducibly.

    .venv/bin/python -m nlp.train [DATA_DIR] [--out nlp/models/data/ngram_lr.npz]

``DATA_DIR`` defaults to ``../shared/data/sentiment`` relative to the repository.
Needs scikit-learn and scipy (dev extra); the artifact it writes needs neither.

Data use (seed :data:`SEED`, deterministic). The shipped model is trained on *all*
shared training data (:func:`training_pool` with ``include_holdout``): every
``*_train.csv`` — online_shopping, weibo, the whole waimai file, ChnSentiCorp minus texts
already in online_shopping. Each domain is split 90/10, stratified: the 90% fits, the
10% ("calibration split") fits the Platt calibration and gives the confusion rates
shipped for adjusted counting; then the weights are refitted on 100% (:func:`fit_model`).
The recipe (:data:`RECIPE`: features, weighting, domain weights, C, and a social head:
a Weibo-only head and a router that mixes it in for texts that read like Weibo) was
chosen by cross-validation on the training pool of :func:`evaluation_split`, which holds
out the ``*_dev.csv`` files, the waimai 30% and half of the long reviews
(``bench/sentiment_recipes.py``, ``bench/sentiment_social.py``); ``bench/sentiment.py`` refits the recipe on that pool
and scores the held-out sets against the TF-IDF + LR baseline.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from nlp import text as textmod
from nlp.metrics import macro_f1
from nlp.models.hashing import HashSpec, bucket_counts, row_weights, tfidf_weights

SEED = 20261122
HOLDOUT_SHARE = 0.30
CALIBRATION_SHARE = 0.10
LONG_CHARS = 200  # the long-review band of bench/sentiment.py
SPEC = HashSpec(bits=21, max_n=3)
REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
DEFAULT_OUT = Path(__file__).resolve().parent / "models" / "data" / "ngram_lr.npz"

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a fitted model besides the data."""

    spec: HashSpec = SPEC
    weighting: str = "binary"  # "binary" (1/sqrt(k) per feature) or "tfidf" ((1 + log tf) · idf, L2)
    domain_weights: bool = True  # each training domain the same total weight
    c: float = 8.0
    #: a training domain ("weibo") given its own head, fitted on that domain only with ``social_c``,
    #: and a router (LR, ``router_c``) that tells its texts from the others' (``nlp.models.ngram.mix_logits``)
    social: str = ""
    social_c: float = 2.0
    router_c: float = 8.0
    #: the gate ``sigmoid(k · (router − t))``: t > 0 keeps reviews the router is unsure of on the general head
    #: (t 3: reviews of a domain the router never saw stay there, ``bench/sentiment_gate_lodo.py``)
    gate_k: float = 2.0
    gate_t: float = 3.0


#: The variants compared by ``bench/sentiment_recipes.py``; :data:`RECIPE` is the shipped one.
RECIPES: dict[str, Recipe] = {
    "binary": Recipe(),
    "tfidf": Recipe(weighting="tfidf"),
    "tfidf-pooled": Recipe(weighting="tfidf", domain_weights=False),
    "tfidf-c16": Recipe(weighting="tfidf", c=16.0),
    "tfidf-contrast": Recipe(HashSpec(bits=21, max_n=3, contrast=True), weighting="tfidf"),
    "tfidf-social": Recipe(weighting="tfidf", social="weibo"),
}
RECIPE_NAME = "tfidf-social"  # chosen by bench/sentiment_recipes.py (docs/benchmarks.md "## NLP")
RECIPE = RECIPES[RECIPE_NAME]


@dataclass(frozen=True)
class Example:
    """One labelled text."""

    id: str
    text: str
    label: int
    domain: str


def read_labelled(path: Path, domain: str | None = None) -> list[Example]:
    """Rows of an ``id,text,label`` CSV file (bad rows skipped)."""
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
            if text and label in ("0", "1"):
                out.append(Example(row.get("id") or "", text, int(label), domain or path.stem))
    return out


def stratified_split(rows: Sequence[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(rest, taken): ``share`` of each label taken at random, reproducibly."""
    rng = random.Random(seed)
    rest, taken = [], []
    for label in (0, 1):
        group = sorted((r for r in rows if r.label == label), key=lambda r: r.id)
        rng.shuffle(group)
        k = round(len(group) * share)
        taken.extend(group[:k])
        rest.extend(group[k:])
    return rest, taken


def waimai_split(data_dir: Path) -> tuple[list[Example], list[Example]]:
    """(train part, held-out 30%) of ``waimai_10k_train.csv``."""
    rows = read_labelled(Path(data_dir) / "waimai_10k_train.csv", "waimai")
    return stratified_split(rows, HOLDOUT_SHARE, SEED)


def training_pool(data_dir: Path, *, include_holdout: bool = False) -> list[Example]:
    """Every training example: online_shopping (+ ChnSentiCorp texts not already in it), weibo, waimai.

    Without ``include_holdout`` the waimai 30% of :func:`waimai_split` is left out.
    """
    data_dir = Path(data_dir)
    shopping = read_labelled(data_dir / "online_shopping_10_cats_train.csv", "online_shopping")
    known = {r.text for r in shopping}
    waimai = (read_labelled(data_dir / "waimai_10k_train.csv", "waimai") if include_holdout
              else waimai_split(data_dir)[0])
    return (shopping
            + [r for r in read_labelled(data_dir / "chnsenticorp_train.csv", "online_shopping") if r.text not in known]
            + read_labelled(data_dir / "weibo_senti_100k_train.csv", "weibo")
            + waimai)


def calibration_split(pool: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(fit, calibration): each domain split 90/10, stratified by label."""
    fit, cal = [], []
    for i, dom in enumerate(sorted({r.domain for r in pool})):
        rest, taken = stratified_split([r for r in pool if r.domain == dom], CALIBRATION_SHARE, SEED + 1 + i)
        fit.extend(rest)
        cal.extend(taken)
    return fit, cal


def training_sets(data_dir: Path, *, include_holdout: bool = False) -> tuple[list[Example], list[Example]]:
    """(fit, calibration) examples from every train file (:func:`training_pool`, :func:`calibration_split`)."""
    return calibration_split(training_pool(data_dir, include_holdout=include_holdout))


def evaluation_split(data_dir: Path) -> tuple[list[Example], dict[str, list[Example]]]:
    """(training pool, held-out sets by domain) for benchmarks and recipe choices.

    Held out: the ``*_dev.csv`` files, the waimai 30% (:func:`waimai_split`), and a
    stratified half of every *long* review (≥ :data:`LONG_CHARS` characters) of the
    training files, so the long band is scored on real long reviews the fit never saw
    while the fit still sees the other half. ChnSentiCorp joins online_shopping (its texts
    are online_shopping reviews); ``chnsenticorp_dev`` is also kept as its own set.
    """
    data_dir = Path(data_dir)
    waimai_fit, waimai_held = waimai_split(data_dir)
    shopping = read_labelled(data_dir / "online_shopping_10_cats_train.csv", "online_shopping")
    known = {r.text for r in shopping}
    pools = {
        "online_shopping": shopping + [r for r in read_labelled(data_dir / "chnsenticorp_train.csv", "online_shopping")
                                       if r.text not in known],
        "weibo": read_labelled(data_dir / "weibo_senti_100k_train.csv", "weibo"),
        "waimai": waimai_fit,
    }
    tests = {
        "online_shopping": read_labelled(data_dir / "online_shopping_10_cats_dev.csv", "online_shopping"),
        "weibo": read_labelled(data_dir / "weibo_senti_100k_dev.csv", "weibo"),
        "waimai": waimai_held,
    }
    train_pool = []
    for i, (dom, rows) in enumerate(sorted(pools.items())):
        long_rows = [r for r in rows if len(r.text) >= LONG_CHARS]
        kept, held = stratified_split(long_rows, 0.5, SEED + 50 + i)
        held_ids = {id(r) for r in held}
        train_pool.extend(r for r in rows if id(r) not in held_ids)
        tests[dom] = tests[dom] + held
    tests["chnsenticorp_dev"] = read_labelled(data_dir / "chnsenticorp_dev.csv", "online_shopping")
    return train_pool, tests


def matrix(texts: Sequence[str], spec: HashSpec, idf=None):  # noqa: ANN001, ANN201 - numpy / scipy types
    """The rows inference sees: texts cleaned as the pipeline does, hashed, L2-normalised.

    Binary features, or ``(1 + log tf) · idf`` when an ``idf`` table (one value per bucket) is given.
    """
    from scipy import sparse

    cleaned = [textmod.clean(t) for t in texts]
    rows, cols, counts = bucket_counts(cleaned, spec)
    values = row_weights(rows, len(cleaned)) if idf is None else tfidf_weights(rows, cols, counts, idf, len(cleaned))
    return sparse.csr_matrix((values, (rows, cols)), shape=(len(cleaned), spec.size))


def fit_idf(texts: Sequence[str], spec: HashSpec):  # noqa: ANN201 - numpy array
    """Smoothed inverse document frequency per bucket, ``log((1 + n) / (1 + df)) + 1``, as float16."""
    import numpy as np

    cleaned = [textmod.clean(t) for t in texts]
    _, cols, _ = bucket_counts(cleaned, spec)
    df = np.bincount(cols, minlength=spec.size)
    return (np.log((1.0 + len(cleaned)) / (1.0 + df)) + 1.0).astype(np.float16)


def design(texts: Sequence[str], recipe: Recipe, *, idf=None, idf_texts: Sequence[str] | None = None):  # noqa: ANN001, ANN201
    """The feature matrix of ``recipe`` for these texts; tf-idf recipes need ``idf`` or texts to fit it on."""
    if recipe.weighting == "binary":
        return matrix(texts, recipe.spec)
    if idf is None:
        idf = fit_idf(idf_texts if idf_texts is not None else texts, recipe.spec)
    return matrix(texts, recipe.spec, idf)


def fit_linear(x, y, weights, c: float):  # noqa: ANN001, ANN201 - scipy / numpy types
    """(coefficients rounded to float16 as inference will use them, intercept) of an L2 logistic regression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=SEED)
    clf.fit(x, y, sample_weight=weights)
    return clf.coef_[0].astype(np.float16).astype(np.float64), float(clf.intercept_[0])


def baseline_vectorizer():  # noqa: ANN201 - a scikit-learn vectorizer
    """The textbook baseline's features: TF-IDF over character 1–3-grams, sublinear tf, L2."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, norm="l2",
                           preprocessor=textmod.clean, dtype=np.float32)


def domain_weights(rows: Sequence[Example]) -> list[float]:
    """Sample weights that give each domain the same total weight."""
    counts = Counter(r.domain for r in rows)
    mean = len(rows) / len(counts)
    return [mean / counts[r.domain] for r in rows]


def platt(decision, labels):  # noqa: ANN001, ANN201 - numpy arrays
    """(a, b) such that sigmoid(a * decision + b) is calibrated on these labels."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(np.asarray(decision).reshape(-1, 1), labels)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def confusion_rates(probs: Sequence[float], labels: Sequence[int], low: float, high: float) -> dict[str, float]:
    """tpr = P(labelled positive | positive), fpr = P(labelled positive | negative), and neutral shares."""
    pos = [p for p, y in zip(probs, labels) if y == 1]
    neg = [p for p, y in zip(probs, labels) if y == 0]
    return {
        "tpr": sum(p >= high for p in pos) / max(len(pos), 1),
        "fpr": sum(p >= high for p in neg) / max(len(neg), 1),
        "tnr": sum(p < low for p in neg) / max(len(neg), 1),
        "fnr": sum(p < low for p in pos) / max(len(pos), 1),
    }


@dataclass
class Fitted:
    """A fitted model before it is written: float16 weights, the idf table (tf-idf recipes), metadata."""

    weights: object  # numpy float16 array, one weight per bucket
    idf: object  # numpy float16 array or None
    meta: dict
    heads: dict = None  # "social" / "router" -> float16 weights, for a recipe with a social head

    def save(self, path: Path) -> None:
        """Write the artifact ``nlp.models.ngram.NgramModel`` loads."""
        from nlp.models.ngram import save_artifact

        save_artifact(path, self.weights, self.meta, idf=self.idf, heads=self.heads)


def fit_heads(x, rows: Sequence[Example], recipe: Recipe) -> dict[str, tuple]:  # noqa: ANN001 - scipy matrix
    """head -> (coefficients, intercept): "general" always; "social" and "router" for a recipe with a social head.

    Without a row of the social domain (or with nothing else) there is no social head.
    """
    import numpy as np

    y = np.array([r.label for r in rows])
    w = np.array(domain_weights(rows)) if recipe.domain_weights else np.ones(len(rows))
    heads = {"general": fit_linear(x, y, w, recipe.c)}
    social = np.array([r.domain == recipe.social for r in rows])
    if recipe.social and social.any() and not social.all():  # no head for a domain left out
        heads["social"] = fit_linear(x[social], y[social], np.ones(int(social.sum())), recipe.social_c)
        heads["router"] = fit_linear(x, social.astype(int), np.ones(len(rows)), recipe.router_c)
    return heads


def head_scores(x, heads: dict[str, tuple]) -> dict[str, object]:  # noqa: ANN001
    """head -> linear score (intercept included) of each row of ``x``."""
    return {k: x @ coef + intercept for k, (coef, intercept) in heads.items()}


def calibrate(scores: dict[str, object], rows: Sequence[Example], recipe: Recipe) -> tuple[dict, object]:
    """(Platt metadata, calibrated probabilities) of ``rows`` from their head scores (:func:`head_scores`).

    The general head is calibrated on every row, or, with a social head, on the rows of
    the other domains while the social head is calibrated on its domain's rows.
    """
    import numpy as np

    from nlp.models.ngram import mix_logits

    y = np.array([r.label for r in rows])
    if "social" not in scores:
        a, b = platt(scores["general"], y)
        return {"platt_a": a, "platt_b": b}, 1.0 / (1.0 + np.exp(-(a * scores["general"] + b)))
    social = np.array([r.domain == recipe.social for r in rows])
    a, b = platt(scores["general"][~social], y[~social])
    sa, sb = platt(scores["social"][social], y[social])
    meta = {"platt_a": a, "platt_b": b, "social": {"domain": recipe.social, "platt_a": sa, "platt_b": sb,
                                                   "gate_k": recipe.gate_k, "gate_t": recipe.gate_t}}
    logit = mix_logits(scores["general"], scores["social"], scores["router"], meta)
    return meta, 1.0 / (1.0 + np.exp(-logit))


def fit_model(fit: Sequence[Example], cal: Sequence[Example], recipe: Recipe = RECIPE, *,
              refit_all: bool = True, log=print) -> Fitted:  # noqa: ANN001 - log is print-like
    """Fit ``recipe`` on ``fit``, calibrate on ``cal``; with ``refit_all`` the shipped weights are refitted on both.

    The Platt calibration, the confusion rates and the validation figures always come
    from the fit-only model scored on ``cal`` (texts it never saw); refitting on
    everything afterwards keeps every labelled text in the shipped weights.
    """
    import numpy as np

    from nlp.models.base import NEUTRAL_HIGH, NEUTRAL_LOW

    t0 = time.time()
    log(f"fit {len(fit)} / calibration {len(cal)} examples, recipe {recipe}")
    idf = fit_idf([r.text for r in fit], recipe.spec) if recipe.weighting == "tfidf" else None
    x_cal = design([r.text for r in cal], recipe, idf=idf)
    y_cal = np.array([r.label for r in cal])
    heads = fit_heads(design([r.text for r in fit], recipe, idf=idf), fit, recipe)
    calibration, probs = calibrate(head_scores(x_cal, heads), cal, recipe)
    validation, validation_n = {}, {}
    for dom in sorted({r.domain for r in cal}):
        mask = np.array([r.domain == dom for r in cal])
        validation[dom] = round(macro_f1(y_cal[mask], probs[mask]), 4)
        validation_n[dom] = int(mask.sum())
    log(f"calibration split macro-F1 {validation} ({time.time() - t0:.0f}s)")
    if refit_all:
        both = list(fit) + list(cal)
        idf = fit_idf([r.text for r in both], recipe.spec) if recipe.weighting == "tfidf" else None
        heads = fit_heads(design([r.text for r in both], recipe, idf=idf), both, recipe)
        log(f"refitted on all {len(both)} examples ({time.time() - t0:.0f}s)")
    coef, intercept = heads["general"]
    weights = coef.astype(np.float16)
    extra = {k: heads[k][0].astype(np.float16) for k in ("social", "router") if k in heads}
    if extra:
        calibration["social"].update(intercept=heads["social"][1], router_intercept=heads["router"][1],
                                     C=recipe.social_c, router_C=recipe.router_c)
    digest = hashlib.sha1(b"".join(a.tobytes() for a in (weights, idf, *extra.values()) if a is not None))
    if extra:  # the gate changes every score too
        digest.update(f"gate {recipe.gate_k} {recipe.gate_t}".encode())
    meta = {
        "name": "ngram-lr",
        # the major number is the artifact format: 2 = one head, 3 = with a social head
        "version": ("3." if extra else "2.") + digest.hexdigest()[:8],
        "trained_on": sorted({r.domain for r in fit}),
        "n_fit": len(fit) + (len(cal) if refit_all else 0),
        "n_calibration": len(cal),
        "hash_bits": recipe.spec.bits,
        "max_n": recipe.spec.max_n,
        "contrast": recipe.spec.contrast,
        "weighting": recipe.weighting,
        "domain_weights": recipe.domain_weights,
        "C": recipe.c,
        "seed": SEED,
        **calibration,
        "intercept": intercept,
        "neutral_low": NEUTRAL_LOW,
        "neutral_high": NEUTRAL_HIGH,
        "validation_macro_f1": validation,
        "validation_n": validation_n,
        **confusion_rates(probs.tolist(), y_cal.tolist(), NEUTRAL_LOW, NEUTRAL_HIGH),
    }
    return Fitted(weights, idf, meta, extra)


def train(data_dir: Path, out: Path, *, recipe: Recipe = RECIPE, exclude: Sequence[str] = (),
          extra: Sequence[Example] = (), include_holdout: bool = True, log=print) -> dict:  # noqa: ANN001
    """Train ``recipe`` on the shared training data (plus ``extra`` examples) and write the artifact; its metadata.

    ``exclude`` leaves whole domains out (e.g. ``waimai``) to measure domain shift;
    ``include_holdout=False`` keeps the waimai 30% out (as the choosing runs did).
    ``extra`` adds examples of further domains (a chain's rated mentions, for
    ``nlp.adapt``), split 90/10 like every training file (with their own seeds, so the
    shared data splits the same with or without them) and weighted per domain.
    """
    t0 = time.time()
    pool = [r for r in training_pool(data_dir, include_holdout=include_holdout) if r.domain not in exclude]
    fit, cal = calibration_split(pool)
    for i, dom in enumerate(sorted({r.domain for r in extra})):
        rest, taken = stratified_split([r for r in extra if r.domain == dom], CALIBRATION_SHARE, SEED + 100 + i)
        fit.extend(rest)
        cal.extend(taken)
    fitted = fit_model(fit, cal, recipe, log=log)
    fitted.save(out)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s: "
        f"{json.dumps(fitted.meta, ensure_ascii=False)}")
    return fitted.meta


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default=RECIPE_NAME,
                    help=f"the recipe (bench/sentiment_recipes.py compares them; default {RECIPE_NAME})")
    ap.add_argument("--without-holdout", action="store_true",
                    help="keep the waimai 30%% hold-out out of the model (the shipped model includes it)")
    ap.add_argument("--exclude-domain", action="append", default=[],
                    help="leave a training domain out (online_shopping, weibo, waimai), for domain-shift checks")
    args = ap.parse_args(argv)
    train(args.data_dir, args.out, recipe=RECIPES[args.recipe], exclude=args.exclude_domain,
          include_holdout=not args.without_holdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
