"""``tingfeng account``: local dashboard accounts for teams without an identity provider."""

from __future__ import annotations

from typing import Optional

import typer
from sqlmodel import select

from dashboard.access import hash_password
from storage import Database
from storage.models import Account, Recipient
from tingfeng.settings import Settings

app = typer.Typer(help="Local dashboard accounts (used with TINGFENG_AUTH=local).", no_args_is_help=True)

ROLES = ("admin", "marketing", "manager")


@app.command("add")
def add(
    username: str = typer.Argument(..., help="login name"),
    role: str = typer.Option("marketing", help="admin | marketing | manager"),
    recipient: Optional[str] = typer.Option(None, help="catalog recipient id whose scope a manager sees"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="TINGFENG_NEW_PASSWORD", help="asked for when not given"),
) -> None:
    """Create or update an account; the password is stored as an argon2 hash only."""
    if role not in ROLES:
        typer.echo(f"role must be one of {', '.join(ROLES)}, got {role!r}", err=True)
        raise typer.Exit(1)
    if len(password) < 8:
        typer.echo("password must have at least 8 characters", err=True)
        raise typer.Exit(1)
    db = Database(Settings().db_url)
    db.require_migrated()
    with db.session() as s:
        if role == "manager":
            if recipient is None or s.get(Recipient, recipient) is None:
                known = ", ".join(r.id for r in s.exec(select(Recipient))) or "none synced yet: run `tingfeng sync`"
                typer.echo(f"a manager needs --recipient with a catalog recipient id (known: {known})", err=True)
                raise typer.Exit(1)
        s.merge(Account(username=username, password_hash=hash_password(password), role=role, recipient_id=recipient))
    typer.echo(f"account {username!r} ({role}) saved")


@app.command("list")
def list_accounts() -> None:
    """Show every account (never the hashes)."""
    db = Database(Settings().db_url)
    db.require_migrated()
    with db.session() as s:
        for a in s.exec(select(Account).order_by(Account.username)):
            typer.echo(f"{a.username}\t{a.role}\t{a.recipient_id or '-'}")


@app.command("remove")
def remove(username: str) -> None:
    """Delete an account."""
    db = Database(Settings().db_url)
    db.require_migrated()
    with db.session() as s:
        account = s.get(Account, username)
        if account is None:
            typer.echo(f"no account {username!r}", err=True)
            raise typer.Exit(1)
        s.delete(account)
    typer.echo(f"account {username!r} removed")
