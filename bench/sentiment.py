"""Sentiment benchmark: the shipped model and recipe against TF-IDF + LR, by domain, by length, out of domain.

    nice -n 10 .venv/bin/python bench/sentiment.py [--data ../shared/data/sentiment] [--no-lodo]
                                                   [--no-shipped] [--snownlp-sample 1000] [--artifact PATH ...]
                                                   [--shipped-only] [--previous-rev REV]

0. **The shipped artifact** (``nlp/models/data/ngram_lr.npz`` as loaded by the
   registry) against the previous artifact (read from git at ``--previous-rev``),
   TF-IDF + LR fitted here on the same data as the shipped model, and SnowNLP, on the
   ``*_dev.csv`` files (the only sets it never trained on; dev texts found in the
   training pool are dropped), by length band; its long-review speed and load time.
   ``--shipped-only`` stops here. Waimai and leave-one-domain-out cannot be measured
   on an artifact trained on every domain: items 1–2 fit the shipped recipe in-run.

1. **Head to head, in the same run.** Both the shipped recipe (:data:`nlp.train.RECIPE`,
   fitted and calibrated exactly as ``nlp.train`` does) and the baseline (scikit-learn
   TF-IDF over character 1–3-grams, sublinear tf, L2, + logistic regression with its
   defaults, threshold 0.5) are fitted on the training pool of
   :func:`nlp.train.evaluation_split` and scored on its held-out sets: every
   ``*_dev.csv``, the waimai 30%, and a stratified half of the real long reviews of the
   training files. Rows per domain and per length band (short < 200 ≤ long characters),
   macro-F1 at p ≥ 0.5 and ROC-AUC, with counts (positives in brackets).
2. **Leave one domain out.** For online_shopping, weibo and waimai: both fitted on the
   pool without that domain, scored on its held-out set.
3. **Speed** of both on long and short held-out reviews (CPU time, one core, texts
   cleaned beforehand as the pipeline does).
4. **Shipped models** (the registry, plus ``--artifact`` files) on the ``*_dev.csv``
   files, which no shipped model trains on: accuracy, macro-F1, ROC-AUC, 10-bin ECE,
   share labelled neutral, docs/s, and load time (import to first score in a fresh
   interpreter). snownlp is slow, so it is scored on a stratified sample
   (``--snownlp-sample`` rows, seed fixed). ``weibo (no emoticons)`` drops every
   ``[表情]`` token, because Weibo labels follow the emoticons.

Prints Markdown.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp import metrics  # noqa: E402
from nlp import text as textmod  # noqa: E402
from nlp.models import available_models, get_model  # noqa: E402
from nlp.train import (DEFAULT_DATA, LONG_CHARS, RECIPE, RECIPE_NAME, Example, baseline_vectorizer,  # noqa: E402
                       calibration_split, evaluation_split, fit_model, read_labelled, training_pool)

PREVIOUS_REV = "bd86c2f"  # the last commit shipping ngram-lr 2.f89c3003 (tfidf, one head)

EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
SEED = 7


def datasets(data_dir: Path) -> dict[str, list[Example]]:
    """name -> examples: every ``*_dev.csv`` (no shipped model trains on them), Weibo without emoticons."""
    out = {p.stem: read_labelled(p) for p in sorted(data_dir.glob("*_dev.csv"))}
    if "weibo_senti_100k_dev" in out:
        out["weibo_senti_100k_dev (no emoticons)"] = without_emoticons(out["weibo_senti_100k_dev"])
    return out


def without_emoticons(examples: list[Example]) -> list[Example]:
    """The same examples with every ``[表情]`` token removed (Weibo labels follow them)."""
    return [Example(e.id, EMOTICON.sub("", e.text), e.label, e.domain) for e in examples]


def load_time(name: str) -> float:
    """Seconds from a fresh interpreter's import of nlp.models to the first score."""
    code = (
        "import time; t = time.perf_counter(); from nlp.models import get_model; "
        f"get_model({name!r}).score(['味道不错']); print(time.perf_counter() - t)"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def _models(artifacts: list[Path]):  # noqa: ANN202 - yields (model, load seconds)
    for name in available_models():
        loaded = load_time(name)
        yield get_model(name), loaded
    for path in artifacts:
        from nlp.models.ngram import NgramModel

        t0 = time.perf_counter()
        model = NgramModel(path)
        model.score(["味道不错"])
        yield model, time.perf_counter() - t0


def run(data_dir: Path, snownlp_sample: int | None, artifacts: list[Path] = ()) -> list[dict]:
    """Measure every model (and extra artifacts) on every data set; one dict per (model, data set)."""
    sets = datasets(data_dir)
    cleaned = {k: [textmod.clean(e.text) for e in v] for k, v in sets.items()}
    rows = []
    for model, loaded in _models(list(artifacts)):
        name = model.name
        for ds, examples in sets.items():
            limit = snownlp_sample if name == "snownlp" else None
            idx = list(range(len(examples))) if limit is None else _sample_idx(examples, limit)
            texts = [cleaned[ds][i] for i in idx]
            labels = [examples[i].label for i in idx]
            t0 = time.process_time()
            probs = model.score(texts)
            cpu = time.process_time() - t0
            rep = metrics.report(labels, probs)
            low, high = model.metadata.get("neutral_low", 0.4), model.metadata.get("neutral_high", 0.6)
            rep["neutral"] = sum(low <= p < high for p in probs) / max(len(probs), 1)
            trained_on = model.metadata.get("trained_on")
            label = f"{model.name} {model.version}" + (f" (trained on {'+'.join(trained_on)})" if trained_on else "")
            rows.append({"model": label, "data": ds, **rep,
                         "docs_per_s": len(texts) / cpu if cpu else float("inf"),
                         "load_s": loaded, "sampled": limit is not None and limit < len(examples)})
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _sample_idx(examples: list[Example], n: int) -> list[int]:
    """Indices of a stratified random sample of ``n`` examples (seed fixed)."""
    rng = random.Random(SEED)
    out: list[int] = []
    for label in (0, 1):
        group = [i for i, e in enumerate(examples) if e.label == label]
        k = min(len(group), round(n * len(group) / len(examples)))
        out.extend(rng.sample(group, k))
    return sorted(out)


def _line(r: dict) -> str:
    n = f"{r['n']}" + (" (sample)" if r["sampled"] else "")
    return (f"| {r['model']} | {r['data']} | {n} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | "
            f"{r['roc_auc']:.4f} | {r['ece']:.3f} | {r['neutral']:.1%} | {r['docs_per_s']:,.0f} | {r['load_s']:.2f} |")


class Baseline:
    """The textbook baseline: TF-IDF character 1–3-grams (sublinear tf, L2) + logistic regression, defaults."""

    name, version = "tfidf-lr baseline", "sklearn"

    def __init__(self, train: list[Example]) -> None:
        from sklearn.linear_model import LogisticRegression

        self._vec = baseline_vectorizer()
        x = self._vec.fit_transform([e.text for e in train])
        self._clf = LogisticRegression(max_iter=1000).fit(x, [e.label for e in train])

    def score(self, texts: list[str]) -> list[float]:
        """Probability of positive (the classifier's own, threshold 0.5)."""
        return self._clf.predict_proba(self._vec.transform(texts))[:, 1].tolist()


def fit_ours(train: list[Example], tmp: Path, tag: str):  # noqa: ANN201 - an NgramModel
    """The shipped recipe fitted exactly as ``nlp.train`` does, on ``train`` only, loaded as inference loads it."""
    from nlp.models.ngram import NgramModel

    fit, cal = calibration_split(train)
    fitted = fit_model(fit, cal, RECIPE, log=lambda m: print(f"  [{tag}] {m}"[:300], file=sys.stderr, flush=True))
    path = tmp / f"{tag}.npz"
    fitted.save(path)
    return NgramModel(path)


def bands(examples: list[Example]) -> dict[str, list[int]]:
    """all / short / long (≥ LONG_CHARS characters of the text as published) -> indices."""
    long_ = [i for i, e in enumerate(examples) if len(e.text) >= LONG_CHARS]
    short = [i for i, e in enumerate(examples) if len(e.text) < LONG_CHARS]
    return {"all": list(range(len(examples))), "short": short, "long": long_}


def compare(models: dict, sets: dict[str, list[Example]]) -> list[dict]:
    """One row per (set, band): n, positives, and each model's macro-F1 / AUC / accuracy."""
    rows = []
    for ds, examples in sets.items():
        texts = [textmod.clean(e.text) for e in examples]
        labels = [e.label for e in examples]
        probs = {k: m.score(texts) for k, m in models.items()}
        for band, idx in bands(examples).items():
            if not idx:
                continue
            y = [labels[i] for i in idx]
            row = {"data": ds, "band": band, "n": len(idx), "pos": sum(y)}
            for k in models:
                p = [probs[k][i] for i in idx]
                row[k] = {"f1": metrics.macro_f1(y, p), "auc": metrics.roc_auc(y, p), "acc": metrics.accuracy(y, p)}
            rows.append(row)
    return rows


def head_to_head(data_dir: Path, lodo: bool) -> tuple[list[dict], list[dict], dict]:
    """(in-domain rows, leave-one-domain-out rows, speed) for the shipped recipe vs the baseline, both fitted here."""
    import tempfile

    pool, tests = evaluation_split(data_dir)
    tests["weibo (no emoticons)"] = without_emoticons(tests["weibo"])
    every = [e for k in ("online_shopping", "weibo", "waimai") for e in tests[k]]
    tests["all domains"] = every
    with tempfile.TemporaryDirectory() as tmp:
        ours = fit_ours(pool, Path(tmp), "all")
        base = Baseline(pool)
        print("  [all] baseline fitted", file=sys.stderr, flush=True)
        in_domain = compare({"ours": ours, "baseline": base}, tests)
        long_texts = [textmod.clean(e.text) for e in every if len(e.text) >= LONG_CHARS]
        short_texts = [textmod.clean(e.text) for e in every if len(e.text) < LONG_CHARS]
        speed = {}
        for k, m in (("ours", ours), ("baseline", base)):
            for band, texts in (("long", long_texts * 10), ("short", short_texts)):
                t0 = time.process_time()
                m.score(texts)
                speed[(k, band)] = len(texts) / (time.process_time() - t0)
        out_domain = []
        if lodo:
            for dom in ("online_shopping", "weibo", "waimai"):
                rest = [e for e in pool if e.domain != dom]
                models = {"ours": fit_ours(rest, Path(tmp), f"without-{dom}"), "baseline": Baseline(rest)}
                held = {dom: tests[dom]}
                if dom == "weibo":
                    held["weibo (no emoticons)"] = tests["weibo (no emoticons)"]
                if dom == "online_shopping":
                    held["chnsenticorp_dev"] = tests["chnsenticorp_dev"]
                out_domain.extend(compare(models, held))
    return in_domain, out_domain, speed


def previous_model(rev: str, tmp: Path):  # noqa: ANN201 - an NgramModel
    """The artifact shipped at git revision ``rev``, read from the repository's history."""
    from nlp.models.ngram import NgramModel

    blob = subprocess.run(["git", "show", f"{rev}:nlp/models/data/ngram_lr.npz"], cwd=REPO,
                          capture_output=True, check=True).stdout
    path = tmp / "previous.npz"
    path.write_bytes(blob)
    return NgramModel(path)


def shipped_vs_baselines(data_dir: Path, previous_rev: str, snownlp_sample: int) -> tuple[list[dict], list[str]]:
    """(rows, model labels): the shipped artifact, the previous one, TF-IDF + LR and SnowNLP on the dev files.

    The shipped model is trained on every ``*_train.csv`` (waimai included), so only the
    ``*_dev.csv`` files are held out for it; the baseline is fitted here on the same pool
    (:func:`nlp.train.training_pool` with the hold-out). Any dev text also found in that
    pool is dropped, so no row scores a text a model trained on. SnowNLP is scored on a
    stratified sample of each set (it is slow); its columns are on that sample.
    """
    import tempfile

    pool = training_pool(data_dir, include_holdout=True)
    seen = {textmod.clean(e.text) for e in pool}
    sets = {k: [e for e in v if textmod.clean(e.text) not in seen] for k, v in datasets(data_dir).items()}
    with tempfile.TemporaryDirectory() as tmp:
        shipped, previous = get_model(), previous_model(previous_rev, Path(tmp))
        base = Baseline(pool)
        print("  [shipped] baseline fitted on all training data", file=sys.stderr, flush=True)
        models = {f"shipped {shipped.version}": shipped, f"previous {previous.version}": previous,
                  "TF-IDF+LR": base}
        rows = compare(models, sets)
    snow = get_model("snownlp")
    for ds, examples in sets.items():
        sample = [examples[i] for i in _sample_idx(examples, snownlp_sample)]
        for r in compare({"snownlp": snow}, {ds: sample}):
            match = next(x for x in rows if x["data"] == r["data"] and x["band"] == r["band"])
            match["snownlp"] = {**r["snownlp"], "n": r["n"]}
    return rows, [*models, "snownlp"]


def _shipped_table(rows: list[dict], labels: list[str]) -> list[str]:
    out = ["| data | band | n (pos.) | " + " | ".join(f"{k} macro-F1" for k in labels)
           + " | shipped − TF-IDF+LR | shipped AUC | TF-IDF+LR AUC |",
           "| --- | --- | ---: | " + " | ".join("---:" for _ in labels) + " | ---: | ---: | ---: |"]
    ship = labels[0]
    for r in rows:
        cells = []
        for k in labels:
            if k not in r:
                cells.append("–")
            else:
                cells.append(f"{r[k]['f1']:.4f}" + (f" (n {r[k]['n']})" if "n" in r[k] else ""))
        out.append(f"| {r['data']} | {r['band']} | {r['n']} ({r['pos']}) | " + " | ".join(cells)
                   + f" | {r[ship]['f1'] - r['TF-IDF+LR']['f1']:+.4f} | {r[ship]['auc']:.4f} | "
                   f"{r['TF-IDF+LR']['auc']:.4f} |")
    return out


def _compare_table(rows: list[dict]) -> list[str]:
    out = ["| data | band | n (pos.) | ours macro-F1 | baseline macro-F1 | Δ | ours AUC | baseline AUC |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        o, b = r["ours"], r["baseline"]
        out.append(f"| {r['data']} | {r['band']} | {r['n']} ({r['pos']}) | {o['f1']:.4f} | {b['f1']:.4f} | "
                   f"{o['f1'] - b['f1']:+.4f} | {o['auc']:.4f} | {b['auc']:.4f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the Markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--snownlp-sample", type=int, default=1000, help="rows per set for snownlp (0: all)")
    ap.add_argument("--artifact", type=Path, action="append", default=[],
                    help="also measure an n-gram artifact written by `python -m nlp.train --out PATH`")
    ap.add_argument("--no-lodo", action="store_true", help="skip the leave-one-domain-out fits (3 × 2 models)")
    ap.add_argument("--no-shipped", action="store_true", help="skip the shipped models on the dev files")
    ap.add_argument("--previous-rev", default=PREVIOUS_REV, help="git revision whose artifact is the previous model")
    ap.add_argument("--shipped-only", action="store_true",
                    help="only the shipped artifact vs previous, TF-IDF+LR and SnowNLP on the dev files")
    args = ap.parse_args(argv)
    t0 = time.time()
    rows, labels = shipped_vs_baselines(args.data, args.previous_rev, args.snownlp_sample or 1000)
    print("### Shipped artifact vs previous model, TF-IDF + LR (same training data) and SnowNLP, dev files\n")
    print("\n".join(_shipped_table(rows, labels)))
    long_texts = [textmod.clean(e.text) for e in training_pool(args.data, include_holdout=True)
                  if len(e.text) >= LONG_CHARS]
    shipped = get_model()
    shipped.score(long_texts)  # warm-up: the first call pays page faults on the weight table
    t1 = time.process_time()
    shipped.score(long_texts * 5)
    rate = 5 * len(long_texts) / (time.process_time() - t1)
    print(f"\nshipped {shipped.version}: {rate:,.0f} docs/s on {len(long_texts)} long reviews ×5 "
          f"(≥ {LONG_CHARS} chars, 1 core CPU time); load {load_time(shipped.name):.2f} s (import → first score)")
    if args.shipped_only:
        print(f"\nbenchmark wall time {time.time() - t0:.0f}s")
        return 0
    in_domain, out_domain, speed = head_to_head(args.data, not args.no_lodo)
    print(f"### Recipe `{RECIPE_NAME}` vs TF-IDF + LR, both fitted on the training pool, held-out sets\n")
    print("\n".join(_compare_table(in_domain)))
    if out_domain:
        print("\n### Leave one domain out: both fitted without the domain, scored on its held-out set\n")
        print("\n".join(_compare_table(out_domain)))
    print("\n| model | docs/s long (≥ 200 chars, 1 core) | docs/s short |\n| --- | ---: | ---: |")
    for k in ("ours", "baseline"):
        print(f"| {k} | {speed[(k, 'long')]:,.0f} | {speed[(k, 'short')]:,.0f} |")
    if not args.no_shipped:
        clean_t0 = time.process_time()
        probe = [e.text for e in datasets(args.data)["weibo_senti_100k_dev"]]
        for t in probe:
            textmod.clean(t)
        clean_rate = len(probe) / (time.process_time() - clean_t0)
        rows = run(args.data, args.snownlp_sample or None, args.artifact)
        print("\n### Shipped models on the `*_dev.csv` files (no shipped model trains on them)\n")
        print("| model | data | n | accuracy | macro-F1 | ROC-AUC | ECE | neutral | docs/s (1 core) | load s |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            print(_line(r))
        print(f"\ntext clean-up (nlp.text.clean, not included above): {clean_rate:,.0f} docs/s on Weibo dev")
    print(f"\nbenchmark wall time {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
