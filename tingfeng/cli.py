"""The ``tingfeng`` command line (Typer).

Every stage can be run once from here; ``tingfeng run`` runs them all on schedule.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from storage import Database, DatabaseNotMigrated, DatabaseUnavailable
from storage.errors import SigningKeyError
from storage.signing_key import DEV_KEY, SigningKey
from tingfeng.errors import CatalogError
from tingfeng.settings import Settings

app = typer.Typer(help="听风 tingfeng — brand, store and product mention monitoring.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _settings(catalog: Optional[Path]) -> Settings:
    settings = Settings()
    if catalog is not None:
        settings = settings.model_copy(update={"catalog": catalog})
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


CatalogOpt = typer.Option(None, "--config", "-c", help="catalog TOML (default: $TINGFENG_CATALOG or tingfeng.toml)")


def _context(catalog: Optional[Path]):  # noqa: ANN202 - returns jobs.Context
    from tingfeng.jobs import Context

    try:
        ctx = Context.from_settings(_settings(catalog))
        ctx.signing_key  # resolved (and generated on first use) before any job signs a link
        return ctx
    except CatalogError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (DatabaseNotMigrated, DatabaseUnavailable, SigningKeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def init(path: Path = typer.Argument(Path("tingfeng.toml")), force: bool = typer.Option(False, "--force")) -> None:
    """Write a commented example catalog."""
    from tingfeng.example import EXAMPLE_CATALOG

    if path.exists() and not force:
        typer.echo(f"{path} exists; use --force to overwrite", err=True)
        raise typer.Exit(1)
    path.write_text(EXAMPLE_CATALOG, encoding="utf-8")
    typer.echo(f"wrote {path}; edit it, then `tingfeng check-config -c {path}`")


@app.command("check-config")
def check_config(config: Optional[Path] = CatalogOpt) -> None:
    """Validate the catalog and print every problem at once (exit 1 if any)."""
    from tingfeng.catalog import load_catalog, recipient_channel_problems

    settings = _settings(config)
    try:
        cat = load_catalog(settings.catalog)
    except CatalogError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    problems = recipient_channel_problems(cat, os.environ)
    if problems:
        typer.echo(f"{settings.catalog}: {len(problems)} problem(s) in this environment:\n"
                   + "\n".join(f"  {p}" for p in problems), err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{settings.catalog}: ok — {len(cat.brands)} brand(s), {len(cat.stores)} store(s), "
        f"{len(cat.products)} product(s), {len(cat.sources)} source(s), {len(cat.recipients)} recipient(s)"
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply schema migrations (creates the SQLite file when needed)."""
    settings = _settings(None)
    db = Database(settings.db_url)
    db.upgrade(revision)
    typer.echo(f"{db.safe_url}: at revision {db.current_revision()}")
    if db.dialect == "postgresql":  # the distributed mode's queue lives beside our tables
        from tingfeng.tasks import apply_schema

        typer.echo("procrastinate schema " + ("created" if apply_schema(settings) else "already present"))


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of this code."""
    settings = _settings(None)
    db = Database(settings.db_url)
    typer.echo(f"{db.safe_url}: database {db.current_revision() or '(not migrated)'}, code {db.head_revision()}")


@db_app.command("prune")
def db_prune(
    days: Optional[int] = typer.Option(None, "--days", min=1, help="keep raw text this many days (default: [retention] raw_text_days)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="only count what would be removed"),
    config: Optional[Path] = CatalogOpt,
) -> None:
    """Remove the raw text, title and author of mentions older than the retention period (counts stay)."""
    from tingfeng import jobs

    ctx = _context(config)
    result = jobs.prune_raw_text(ctx, days, dry_run=dry_run)
    if result is None:
        typer.echo(f"{ctx.settings.catalog}: no [retention] raw_text_days and no --days: nothing pruned", err=True)
        raise typer.Exit(1)
    verb = "would remove" if result.dry_run else "removed"
    typer.echo(f"{verb} the raw text of {result.mentions} mention(s) published before "
               f"{result.cutoff:%Y-%m-%d %H:%M} UTC ({result.touchpoints} touchpoint clause(s), "
               f"quotes in {result.alerts} alert(s)); scores, rollups and alerts kept"
               + (f"; {result.unscored} unscored mention(s) left until scored" if result.unscored else ""))


@app.command()
def sync(config: Optional[Path] = CatalogOpt) -> None:
    """Write the catalog into the database (jobs do this too)."""
    ctx = _context(config)
    typer.echo(f"catalog synced into {ctx.db.safe_url}")


@app.command()
def collect(
    source: Optional[str] = typer.Argument(None, help="source id; all enabled sources when omitted"),
    config: Optional[Path] = CatalogOpt,
) -> None:
    """Collect one source, or all enabled sources, once."""
    from tingfeng import jobs

    ctx = _context(config)
    results = {source: jobs.collect(ctx, source)} if source else jobs.collect_all(ctx)
    failed = 0
    for sid, run in results.items():
        if isinstance(run, Exception):
            failed += 1
            typer.echo(f"{sid}: FAILED {run}")
        else:
            typer.echo(f"{sid}: {run.status} pages={run.pages} new={run.items_new} dup={run.items_duplicate} errors={len(run.errors)}")
    raise typer.Exit(1 if failed else 0)


def _job(name: str):  # noqa: ANN202
    def command(config: Optional[Path] = CatalogOpt) -> None:
        from tingfeng import jobs

        ctx = _context(config)
        result = getattr(jobs, name)(ctx)
        typer.echo(f"{name}: {jobs._summary(result)}")

    command.__doc__ = f"Run the {name.replace('_', ' ')} job once."
    return command


for _cmd, _fn in (
    ("score", "score_pending"),
    ("rollups", "update_rollups"),
    ("detect", "detect_alerts"),
    ("notify", "enqueue_notifications"),
    ("process", "process"),
):
    app.command(_cmd)(_job(_fn))


def refuse_public_key(key: SigningKey, data_dir: Path) -> None:
    """Exit 2 when links would be signed with the public development key (anyone could forge them)."""
    if key.is_public:
        typer.echo(f"error: TINGFENG_SECRET_KEY is the public development key {DEV_KEY!r}: anyone could forge "
                   "the acknowledge/resolve links in alert emails. Set TINGFENG_SECRET_KEY to a long random value "
                   "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or unset it to use a "
                   f"key generated in {data_dir}/secret_key (one machine only).", err=True)
        raise typer.Exit(2)
    if key.source == "file":
        logging.getLogger("tingfeng.cli").warning(
            "signing links with the key generated in %s; set TINGFENG_SECRET_KEY when several machines serve "
            "links or the dashboard", key.path)


@app.command()
def deliver(config: Optional[Path] = CatalogOpt) -> None:
    """Run the deliver notifications job once (refused with the public development key)."""
    from tingfeng import jobs

    ctx = _context(config)
    refuse_public_key(ctx.signing_key, ctx.settings.data_dir)
    typer.echo(f"deliver_notifications: {jobs._summary(jobs.deliver_notifications(ctx))}")


@app.command("send-digest")
def send_digest(
    week: Optional[str] = typer.Option(None, help="ISO week such as 2026-W47; default: the week that just ended"),
    config: Optional[Path] = CatalogOpt,
) -> None:
    """Queue the weekly digest (once per recipient and week); `deliver` sends it."""
    from tingfeng import jobs

    ctx = _context(config)
    typer.echo(f"digest: {jobs._summary(jobs.send_weekly_digest(ctx, week))}")


@app.command()
def run(config: Optional[Path] = CatalogOpt) -> None:
    """Run every job on the catalog's schedules until SIGTERM (embedded mode)."""
    from tingfeng.scheduler import run_forever

    ctx = _context(config)
    refuse_public_key(ctx.signing_key, ctx.settings.data_dir)
    run_forever(ctx)


def dashboard_command(settings: Settings, *, port: int, address: str = "127.0.0.1") -> list[str]:
    """The streamlit command line that serves the dashboard."""
    dashboard_dir = Path(__file__).resolve().parent.parent / "dashboard"
    # serve.py preloads the pages' modules and warms the server with one script run (the
    # health check) so the first visitor does not pay the server's first session
    return [
        sys.executable, str(dashboard_dir / "serve.py"), address, str(port), "run", str(dashboard_dir / "app.py"),
        "--server.address", address, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
        "--server.scriptHealthCheckEnabled", "true",
    ]


def dashboard_env(settings: Settings) -> dict[str, str]:
    """Environment handed to the dashboard process."""
    env = dict(os.environ)
    env["DATABASE_URL"] = settings.db_url
    env["TINGFENG_DATA_DIR"] = str(settings.data_dir)
    key = settings.signing_key()
    if key.source == "file":  # the dashboard reads the same file and knows the key was generated
        env.pop("TINGFENG_SECRET_KEY", None)
    else:
        env["TINGFENG_SECRET_KEY"] = key.value
    env["TINGFENG_TIMEZONE"] = settings.timezone
    return env


@app.command()
def dashboard(
    port: int = typer.Option(8501),
    address: str = typer.Option("127.0.0.1", help="bind address; expose beyond localhost only with login configured"),
) -> None:
    """Serve the Streamlit dashboard."""
    settings = _settings(None)
    Database(settings.db_url).require_migrated()
    # exec, not a child process: Streamlit itself then receives SIGTERM (systemd, docker stop)
    # instead of a parent that would leave it running as an orphan
    command = dashboard_command(settings, port=port, address=address)
    sys.stdout.flush()
    os.execve(command[0], command, dashboard_env(settings))


@app.command()
def demo(
    no_dashboard: bool = typer.Option(False, "--no-dashboard", help="stop after the summary"),
    data_dir: Path = typer.Option(Path("var/demo"), help="where the demo database, catalog and mail go"),
    port: int = typer.Option(8501, help="dashboard port"),
    days: int = typer.Option(60, help="days of history to generate"),
) -> None:
    """Generate a tea-drink chain, serve its reviews locally, run every stage, show the result."""
    from tingfeng.demo.run import run_demo

    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    settings = run_demo(data_dir=data_dir, days=days, echo=typer.echo)
    if no_dashboard:
        return
    typer.echo(f"\n仪表盘 dashboard: http://localhost:{port}  (Ctrl+C to stop)")
    try:
        subprocess.call(dashboard_command(settings, port=port), env=dashboard_env(settings))
    except KeyboardInterrupt:
        pass


def _register_subcommands() -> None:
    """Sub-apps owned by the stages' command modules (an explicit registry)."""
    from tingfeng.commands import accounts, alerts, digest, nlp, worker

    app.add_typer(nlp.app, name="nlp")
    app.add_typer(alerts.app, name="alerts")
    app.add_typer(digest.app, name="digest")
    app.add_typer(worker.app, name="worker")
    app.add_typer(accounts.app, name="account")


_register_subcommands()

if __name__ == "__main__":
    app()
