"""Train the shipped n-gram sentiment model, reproducibly.

    .venv/bin/python -m nlp.train [DATA_DIR] [--out nlp/models/data/ngram_lr.npz]

``DATA_DIR`` defaults to ``../shared/data/sentiment`` relative to the repository.
Needs scikit-learn and scipy (dev extra); the artifact it writes needs neither.

Data use (seed :data:`SEED`, deterministic):

- ``waimai_10k_train.csv``: a stratified 30% is held out (:func:`waimai_split`) and
  never trained or tuned on; it is reported by ``bench/sentiment.py``.
- every ``*_train.csv`` (the waimai 70%, online_shopping, weibo, ChnSentiCorp minus
  texts already in online_shopping) is split 90/10 per file, stratified: the 90% fits
  the classifier, the 10% ("calibration split") fits the Platt calibration, chooses the
  regularisation, and gives the confusion rates shipped for adjusted counting.
- no ``*_dev.csv`` file is read here: they are only reported.
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
from nlp.models.hashing import HashSpec, buckets, row_weights

SEED = 20261122
HOLDOUT_SHARE = 0.30
CALIBRATION_SHARE = 0.10
SPEC = HashSpec(bits=21, max_n=3)
REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
DEFAULT_OUT = Path(__file__).resolve().parent / "models" / "data" / "ngram_lr.npz"

csv.field_size_limit(sys.maxsize)


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


def training_sets(data_dir: Path) -> tuple[list[Example], list[Example]]:
    """(fit, calibration) examples from every train file, per-file stratified 90/10."""
    data_dir = Path(data_dir)
    files = {
        "online_shopping": read_labelled(data_dir / "online_shopping_10_cats_train.csv", "online_shopping"),
        "weibo": read_labelled(data_dir / "weibo_senti_100k_train.csv", "weibo"),
        "waimai": waimai_split(data_dir)[0],
    }
    shopping = {r.text for r in files["online_shopping"]}
    files["chnsenticorp"] = [r for r in read_labelled(data_dir / "chnsenticorp_train.csv", "online_shopping")
                             if r.text not in shopping]
    fit, cal = [], []
    for i, (_, rows) in enumerate(sorted(files.items())):
        rest, taken = stratified_split(rows, CALIBRATION_SHARE, SEED + 1 + i)
        fit.extend(rest)
        cal.extend(taken)
    return fit, cal


def matrix(texts: Sequence[str], spec: HashSpec):  # noqa: ANN201 - scipy type
    """The rows inference sees: texts cleaned as the pipeline does, hashed, L2-normalised binary."""
    from scipy import sparse

    cleaned = [textmod.clean(t) for t in texts]
    rows, cols = buckets(cleaned, spec)
    return sparse.csr_matrix((row_weights(rows, len(cleaned)), (rows, cols)), shape=(len(cleaned), spec.size))


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


def train(data_dir: Path, out: Path, *, spec: HashSpec = SPEC, c_grid: Sequence[float] = (4.0, 8.0),
          exclude: Sequence[str] = (), extra: Sequence[Example] = (),
          log=print) -> dict:  # noqa: ANN001 - log is print-like
    """Fit, tune C on the calibration split, calibrate, and write the artifact; its metadata.

    ``exclude`` leaves whole domains out (e.g. ``waimai``) to measure domain shift.
    ``extra`` adds examples of further domains (a chain's rated mentions, for
    ``nlp.adapt``), split 90/10 like every training file and weighted per domain.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from nlp.models.base import NEUTRAL_HIGH, NEUTRAL_LOW
    from nlp.models.ngram import save_artifact

    t0 = time.time()
    fit, cal = training_sets(data_dir)
    fit, cal = [r for r in fit if r.domain not in exclude], [r for r in cal if r.domain not in exclude]
    for i, dom in enumerate(sorted({r.domain for r in extra})):
        rest, taken = stratified_split([r for r in extra if r.domain == dom], CALIBRATION_SHARE, SEED + 100 + i)
        fit.extend(rest)
        cal.extend(taken)
    log(f"fit {len(fit)} / calibration {len(cal)} examples")
    x_fit, x_cal = matrix([r.text for r in fit], spec), matrix([r.text for r in cal], spec)
    y_fit, y_cal = np.array([r.label for r in fit]), np.array([r.label for r in cal])
    weights = np.array(domain_weights(fit))
    log(f"{x_fit.nnz} non-zeros in {spec.size} hashed columns ({time.time() - t0:.0f}s)")

    best = None
    for c in c_grid:
        clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=SEED)
        clf.fit(x_fit, y_fit, sample_weight=weights)
        per_domain = {}
        for dom in sorted({r.domain for r in cal}):
            mask = np.array([r.domain == dom for r in cal])
            per_domain[dom] = f1_score(y_cal[mask], clf.predict(x_cal[mask]), average="macro")
        score = sum(per_domain.values()) / len(per_domain)
        log(f"C={c}: mean macro-F1 over calibration domains {score:.4f} {per_domain}")
        if best is None or score > best[0]:
            best = (score, c, clf, per_domain)
    _, c, clf, per_domain = best

    coef = clf.coef_[0].astype(np.float16)  # what inference will use
    decision = x_cal @ coef.astype(np.float64) + clf.intercept_[0]
    a, b = platt(decision, y_cal)
    probs = 1.0 / (1.0 + np.exp(-(a * decision + b)))
    meta = {
        "name": "ngram-lr",
        "version": "1." + hashlib.sha1(coef.tobytes()).hexdigest()[:8],
        "trained_on": sorted({r.domain for r in fit}),
        "n_fit": len(fit),
        "n_calibration": len(cal),
        "hash_bits": spec.bits,
        "max_n": spec.max_n,
        "C": c,
        "seed": SEED,
        "validation_macro_f1": {d: round(float(v), 4) for d, v in per_domain.items()},
        "platt_a": a,
        "platt_b": b,
        "intercept": float(clf.intercept_[0]),
        "neutral_low": NEUTRAL_LOW,
        "neutral_high": NEUTRAL_HIGH,
        **confusion_rates(probs.tolist(), y_cal.tolist(), NEUTRAL_LOW, NEUTRAL_HIGH),
    }
    save_artifact(out, coef, meta)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s: {json.dumps(meta, ensure_ascii=False)}")
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("-C", dest="c_grid", type=float, action="append", help="regularisation to try (repeatable)")
    ap.add_argument("--exclude-domain", action="append", default=[],
                    help="leave a training domain out (online_shopping, weibo, waimai), for domain-shift checks")
    args = ap.parse_args(argv)
    train(args.data_dir, args.out, c_grid=args.c_grid or (4.0, 8.0), exclude=args.exclude_domain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
