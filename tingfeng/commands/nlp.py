"""``tingfeng nlp …``: score or evaluate a CSV file with a sentiment model (no database);
adapt a chain model from rated mentions and corrections, and rescore with it (database)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Chinese sentiment tools: score a CSV, evaluate a model, adapt and rescore.",
                  no_args_is_help=True)

ModelOpt = typer.Option(None, "--model", "-m", help="sentiment model name (default: the shipped default)")


def _model(name: Optional[str]):  # noqa: ANN202 - SentimentModel, imported lazily
    from nlp.errors import UnknownModel
    from nlp.models import get_model

    try:
        return get_model(name)
    except UnknownModel as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from exc


def _report_bad(bad) -> None:  # noqa: ANN001 - nlp.batch.BadRow
    typer.echo(str(bad), err=True)


def _open(path: Path):  # noqa: ANN202 - a text stream
    if str(path) == "-":
        return open(sys.stdin.fileno(), encoding="utf-8-sig", errors="surrogateescape", newline="", closefd=False)
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from exc


@app.command()
def score(
    src: Path = typer.Argument(..., help="CSV with columns id,text (others passed through); - for stdin"),
    out: Path = typer.Option(..., "--out", "-o", help="CSV to write (adds score, label, touchpoints, urgent)"),
    model: Optional[str] = ModelOpt,
) -> None:
    """Score every row of a CSV file, streaming (bounded memory)."""
    from nlp.batch import score_csv
    from nlp.errors import InputError

    m = _model(model)
    with _open(src) as fin, open(out, "w", encoding="utf-8", newline="") as fout:
        try:
            n = score_csv(fin, fout, m, on_bad=_report_bad)
        except InputError as exc:
            typer.echo(f"error: {src}: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"scored {n} row(s) with {m.name} {m.version} → {out}", err=True)


@app.command("eval")
def evaluate(
    src: Path = typer.Argument(..., help="CSV with columns id,text,label (1 positive, 0 negative)"),
    model: Optional[str] = ModelOpt,
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Accuracy, macro-F1 and ROC-AUC of a model on a labelled CSV file."""
    from nlp.batch import evaluate_csv
    from nlp.errors import InputError

    m = _model(model)
    with _open(src) as fin:
        try:
            result = evaluate_csv(fin, m, on_bad=_report_bad)
        except InputError as exc:
            typer.echo(f"error: {src}: {exc}", err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"model": m.name, "version": m.version, **result}))
        return
    typer.echo(f"model     {m.name} {m.version}\nrows      {result['n']}\n"
               f"accuracy  {result['accuracy']:.4f}\nmacro-F1  {result['macro_f1']:.4f}\n"
               f"ROC-AUC   {result['roc_auc']:.4f}")


def _database():  # noqa: ANN202 - storage.Database
    from storage import Database, DatabaseNotMigrated, DatabaseUnavailable
    from tingfeng.settings import Settings

    db = Database(Settings().db_url)
    try:
        db.require_migrated()
    except (DatabaseNotMigrated, DatabaseUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return db


def _since(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or ISO time", param_hint="--since") from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


@app.command()
def adapt(
    data_dir: Optional[Path] = typer.Option(None, "--data", help="base training data (default: nlp.train's)"),
    models_dir: Optional[Path] = typer.Option(None, "--models-dir", help="where fitted models go (default: DATA_DIR/models)"),
    folds: int = typer.Option(5, "--folds", min=2, help="cross-validation folds over the chain's labelled mentions"),
    min_gain: float = typer.Option(0.0, "--min-gain", help="promote only when macro-F1 improves by more than this"),
) -> None:
    """Fit a chain model from the base data plus rated and corrected mentions; promote it only if better."""
    from nlp.adapt import adapt as run
    from nlp.errors import AdaptError
    from nlp.train import DEFAULT_DATA
    from tingfeng.settings import Settings

    db = _database()
    try:
        r = run(db, models_dir or Settings().data_dir / "models", data_dir=data_dir or DEFAULT_DATA, folds=folds,
                min_gain=min_gain, log=lambda line: typer.echo(line, err=True))
    except AdaptError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    verdict = "promoted" if r.promoted else "not promoted (the model in force stays)"
    typer.echo(f"{r.n_examples} labelled mentions ({r.n_from_corrections} from corrections), {r.folds}-fold CV\n"
               f"base       {r.base}: macro-F1 {r.base_macro_f1:.4f}\n"
               f"candidate  {r.candidate}: macro-F1 {r.candidate_macro_f1:.4f} → {verdict}\n"
               f"artifact   {r.artifact}")


@app.command()
def rescore(
    since: Optional[str] = typer.Option(None, "--since", help="only mentions published at or after (YYYY-MM-DD, UTC)"),
) -> None:
    """Recompute scores with the model in force (corrections kept) and rebuild the rollups touched."""
    from alerts.rollups import update_rollups
    from nlp.pipeline import rescore as run
    from nlp.registry import current_model, ensure_registered
    from tingfeng.settings import Settings

    db = _database()
    settings = Settings()
    model = current_model(db, settings.sentiment_model)
    ensure_registered(db, model)
    n = run(db, model, _since(since))
    rows = update_rollups(db, settings.timezone)
    typer.echo(f"rescored {n} mention(s) with {model.name} {model.version}; {rows} rollup row(s) rebuilt")
