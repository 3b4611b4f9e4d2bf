"""``tingfeng digest …``: look at the weekly digest without sending it."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="The weekly sentiment digest.", no_args_is_help=True)


@app.command()
def preview(
    recipient: str = typer.Option(..., "--recipient", "-r", help="recipient id or name from the catalog"),
    week: Optional[str] = typer.Option(None, "--week", "-w", help="ISO week, e.g. 2026-W47 (default: last complete week)"),
    out_dir: Path = typer.Option(Path("."), "--out", "-o", help="directory for the .eml, .html and .xlsx"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="catalog TOML (default: $TINGFENG_CATALOG or tingfeng.toml)"),
) -> None:
    """Write one recipient's digest as .eml (exactly what would be sent) and .html, sending nothing."""
    from alerts.channels.email import build_email
    from alerts.digest import build_digest, last_complete_week, parse_week
    from alerts.render.digest import inline_images
    from tingfeng.cli import _context
    from tingfeng.jobs import digest_settings

    ctx = _context(config)
    settings = digest_settings(ctx)
    week = week or last_complete_week(ctx.clock(), settings.timezone)
    try:
        parse_week(week)
        message = build_digest(ctx.db, settings, recipient, week)
    except (ValueError, LookupError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"digest_{week}_{message.recipient_id}"
    eml = build_email(message, ctx.channels.smtp_from)
    stem.with_suffix(".eml").write_bytes(eml.as_bytes())
    stem.with_suffix(".html").write_text(inline_images(message.html, message.payload["images"]), encoding="utf-8")
    for att in message.payload["attachments"]:
        (out_dir / f"{message.recipient_id}_{att['filename']}").write_bytes(base64.b64decode(att["b64"]))
    typer.echo(f"{message.subject}\nwrote {stem}.eml, {stem}.html"
               + "".join(f", {out_dir}/{message.recipient_id}_{a['filename']}" for a in message.payload["attachments"]))
    if not message.address:
        typer.echo(f"note: recipient {message.recipient_id} has no email address; the digest job skips them", err=True)
