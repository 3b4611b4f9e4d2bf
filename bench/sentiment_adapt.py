"""Adaptation benchmark: how much of the in-domain gap ``nlp adapt`` recovers from ratings.

    nice -n 10 .venv/bin/python bench/sentiment_adapt.py [--data ../shared/data/sentiment]
                                                         [--folds 3] [--recipe NAME]

The domain (waimai by default) plays the chain. Three models, all with the recipe of
``nlp.train`` (so a new base recipe is measured here without change):

- **base**: trained on every shared training file *except* the domain (out of domain);
- **in-domain**: the full recipe, the domain's 70% training part included;
- **adapted**: ``nlp.adapt.adapt`` on a fresh SQLite database holding the domain's 70%
  part as rated mentions (label 1 → 5 stars, 0 → 1 star), with the base above as the
  model in force and the domain excluded from the base data — exactly what a chain
  without that domain in the shared data would run.

All three are scored on the domain's 30% hold-out (never trained or tuned on). Printed:
macro-F1, accuracy and ROC-AUC of each, the cross-validated figures ``adapt`` recorded
(and whether it promoted), and ``recovered = (adapted − base) / (in-domain − base)`` of
the hold-out macro-F1 (goal ≥ 80%). For a recipe with a social (Weibo) head it also prints
the share of hold-out reviews each model sends to that head, and how far the adapted and
in-domain scores differ (equal figures are then seen to be two different models, not one).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp import metrics  # noqa: E402
from nlp import text as textmod  # noqa: E402
from nlp.adapt import adapt  # noqa: E402
from nlp.models.ngram import NgramModel, gate_share  # noqa: E402
from nlp.train import DEFAULT_DATA, RECIPE_NAME, RECIPES, train, waimai_split  # noqa: E402
from storage import Database, make_url_for_path  # noqa: E402
from storage.models import Mention  # noqa: E402


def store_rated(db: Database, examples) -> int:  # noqa: ANN001 - list[Example]
    """Write the examples as rated review mentions (5 stars positive, 1 star negative)."""
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with db.session() as s:
        s.add_all([Mention(source_id="bench", external_id=e.id, platform="meituan", kind="review", text=e.text,
                           rating=5.0 if e.label else 1.0, published_at=t0 + timedelta(minutes=i),
                           collected_at=t0 + timedelta(minutes=i),
                           content_hash=hashlib.sha1(e.text.encode()).hexdigest()) for i, e in enumerate(examples)])
    return len(examples)


def figures(model, rows) -> dict[str, float]:  # noqa: ANN001
    """metrics.report of a model on examples, texts cleaned as the pipeline does."""
    return metrics.report([r.label for r in rows], model.score([textmod.clean(r.text) for r in rows]))


def routed(model, rows) -> str:  # noqa: ANN001
    """Share of ``rows`` whose gate sends more than half / any of the score to the social head ("–" without one)."""
    if not model.metadata.get("social"):
        return "–"
    share = gate_share(model.linear([textmod.clean(r.text) for r in rows])[0][:, 2], model.metadata)
    return f"{(share > 0.5).mean():.2%} / {(share > 0).mean():.1%}"


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and print Markdown."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default=RECIPE_NAME, help="the nlp.train recipe of all three")
    args = ap.parse_args(argv)
    recipe = RECIPES[args.recipe]
    part, holdout = waimai_split(args.data)
    quiet = lambda _: None  # noqa: E731
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train(args.data, tmp / "base.npz", recipe=recipe, exclude=["waimai"], log=quiet)
        train(args.data, tmp / "indomain.npz", recipe=recipe, include_holdout=False, log=quiet)
        base, indomain = NgramModel(tmp / "base.npz"), NgramModel(tmp / "indomain.npz")
        db = Database(make_url_for_path(tmp / "bench.db"))
        db.upgrade()
        store_rated(db, part)
        result = adapt(db, tmp / "models", data_dir=args.data, base=base, folds=args.folds, exclude=["waimai"],
                       recipe=recipe)
        adapted = NgramModel(result.artifact)
        models = {"base (no waimai)": base, "in-domain (shipped recipe)": indomain,
                  "adapted (base data + waimai as rated mentions)": adapted}
        rows = {name: {**figures(m, holdout), "routed": routed(m, holdout), "version": m.version}
                for name, m in models.items()}
        texts = [textmod.clean(r.text) for r in holdout]
        diff = [abs(p - q) for p, q in zip(adapted.score(texts), indomain.score(texts))]
        db.dispose()
    elapsed = time.time() - t0
    print(f"waimai 30% hold-out: {len(holdout)} reviews; rated mentions: {len(part)}; recipe {args.recipe}; "
          f"{args.folds}-fold CV; {elapsed / 60:.1f} min\n")
    print("| model | version | macro-F1 | accuracy | ROC-AUC | to the Weibo head (share > 0.5 / > 0) |\n"
          "| --- | --- | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        print(f"| {name} | {r['version']} | {r['macro_f1']:.4f} | {r['accuracy']:.4f} | {r['roc_auc']:.4f} "
              f"| {r['routed']} |")
    print(f"\nadapted vs in-domain, |Δ P(positive)| on the hold-out: mean {sum(diff) / len(diff):.4f}, "
          f"max {max(diff):.4f}")
    b, i, a = (rows[k]["macro_f1"] for k in rows)
    print(f"\nadapt's own cross-validation on the rated mentions: base {result.base_macro_f1:.4f}, "
          f"candidate {result.candidate_macro_f1:.4f} → {'promoted' if result.promoted else 'not promoted'}")
    print(f"in-domain gap {i - b:+.4f}; recovered by adapting {a - b:+.4f} = {(a - b) / (i - b):.0%} (goal ≥ 80%)"
          if i != b else "no in-domain gap to recover")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
