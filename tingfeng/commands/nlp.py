"""``tingfeng nlp …``: score or evaluate a CSV file with a sentiment model (no database)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Chinese sentiment tools: score a CSV, evaluate a model.", no_args_is_help=True)

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
