"""Sentiment benchmark: every shipped model on every dev set and the waimai hold-out.

    .venv/bin/python bench/sentiment.py [--data ../shared/data/sentiment] [--snownlp-sample 1000]
                                        [--artifact PATH ...]

For each model and data set: accuracy and macro-F1 (positive when p >= 0.5), ROC-AUC,
expected calibration error (10 bins), the share labelled neutral (inside the model's band),
documents per second on one core (CPU time of this single-threaded process, model call
only: texts are cleaned beforehand exactly as the pipeline does), and the model's load
time (import to first score, in a fresh interpreter). ``weibo_senti_100k_dev (no
emoticons)`` is the Weibo dev set with every ``[表情]`` token removed, because its labels
follow the emoticons. snownlp is slow, so it is measured on a stratified random sample
of each set (``--snownlp-sample`` rows, seed fixed); the table says so. Prints Markdown.
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
from nlp.train import DEFAULT_DATA, Example, read_labelled, waimai_split  # noqa: E402

EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
SEED = 7


def datasets(data_dir: Path) -> dict[str, list[Example]]:
    """name -> examples: every ``*_dev.csv``, the waimai hold-out, Weibo without emoticons."""
    out = {p.stem: read_labelled(p) for p in sorted(data_dir.glob("*_dev.csv"))}
    out["waimai_10k hold-out 30%"] = waimai_split(data_dir)[1]
    if "weibo_senti_100k_dev" in out:
        out["weibo_senti_100k_dev (no emoticons)"] = [
            Example(e.id, EMOTICON.sub("", e.text), e.label, e.domain) for e in out["weibo_senti_100k_dev"]
        ]
    return out


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


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--snownlp-sample", type=int, default=1000, help="rows per set for snownlp (0: all)")
    ap.add_argument("--artifact", type=Path, action="append", default=[],
                    help="also measure an n-gram artifact written by `python -m nlp.train --out PATH`")
    args = ap.parse_args(argv)
    t0 = time.time()
    clean_t0 = time.process_time()
    probe = [e.text for e in datasets(args.data)["weibo_senti_100k_dev"]]
    for t in probe:
        textmod.clean(t)
    clean_rate = len(probe) / (time.process_time() - clean_t0)
    rows = run(args.data, args.snownlp_sample or None, args.artifact)
    print("| model | data | n | accuracy | macro-F1 | ROC-AUC | ECE | neutral | docs/s (1 core) | load s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(_line(r))
    print(f"\ntext clean-up (nlp.text.clean, not included above): {clean_rate:,.0f} docs/s on Weibo dev; "
          f"benchmark wall time {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
