"""``tingfeng alerts …``: run the spike detector over a CSV of mentions (backtest)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Spike detection tools.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Spike detection tools (keeps ``backtest`` a sub-command)."""


def load_policy(config: Path | None):  # noqa: ANN201 - AlertPolicy, imported lazily
    """The ``[alerts]`` table of a TOML file as an AlertPolicy (defaults without a file)."""
    from pydantic import ValidationError

    from alerts.policy import AlertPolicy

    if config is None:
        return AlertPolicy()
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {config}: {exc}", param_hint="--config") from exc
    try:
        return AlertPolicy.model_validate(raw.get("alerts", {}))
    except ValidationError as exc:
        problems = "; ".join(f"alerts.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(f"{config}: {problems}", param_hint="--config") from exc


@app.command()
def backtest(
    mentions: Path = typer.Argument(..., help="CSV: time, store, product, platform, score[, id, text]"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the alerts CSV"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML whose [alerts] table sets the policy"),
) -> None:
    """Replay MENTIONS.csv hour by hour through the live detector (no look-ahead) and write its alerts."""
    from alerts.backtest import backtest_csv
    from alerts.errors import BacktestError

    policy = load_policy(config)
    try:
        alerts, errors = backtest_csv(mentions, output, policy)
    except BacktestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line, message in errors.rows:
        typer.echo(f"{mentions}:{line}: skipped: {message}", err=True)
    typer.echo(f"{len(alerts)} alert(s) written to {output}"
               + (f"; {len(errors.rows)} bad row(s) skipped" if errors.rows else ""))
