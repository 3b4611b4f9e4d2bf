"""``tingfeng worker …``: the distributed mode's command line (see :mod:`tingfeng.tasks`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from tingfeng.settings import Settings

app = typer.Typer(help="Distributed mode: procrastinate workers sharing one PostgreSQL.", no_args_is_help=True)

CatalogOpt = typer.Option(None, "--config", "-c", help="catalog TOML (default: $TINGFENG_CATALOG or tingfeng.toml)")
JOBS = ("collect", "score", "process", "deliver", "digest", "recover", "prune")


def _settings(catalog: Optional[Path]) -> Settings:
    """Settings and logging exactly as the main CLI sets them up."""
    from tingfeng.cli import _settings as cli_settings

    return cli_settings(catalog)


def _conninfo(settings: Settings) -> str:
    from tingfeng.tasks import procrastinate_conninfo

    try:
        return procrastinate_conninfo(settings.db_url)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _app(config: Optional[Path]):  # noqa: ANN202 - procrastinate.App
    from tingfeng.errors import CatalogError
    from tingfeng.tasks import make_app

    settings = _settings(config)
    _conninfo(settings)
    try:
        return make_app(settings)
    except CatalogError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@app.command()
def schema() -> None:
    """Create procrastinate's tables beside tingfeng's (idempotent; run on each deploy)."""
    from tingfeng.tasks import apply_schema

    settings = _settings(None)
    _conninfo(settings)
    created = apply_schema(settings)
    typer.echo("procrastinate schema created" if created else "procrastinate schema already present")


@app.command("run")
def run_worker(
    config: Optional[Path] = CatalogOpt,
    concurrency: Optional[int] = typer.Option(None, help="jobs at once in this process (default $TINGFENG_WORKER_CONCURRENCY or 1)"),
    queues: Optional[str] = typer.Option(None, help="comma-separated queues to serve (default: all): collect,score,process,deliver,maintenance,builtin"),
    name: Optional[str] = typer.Option(None, help="worker name in logs"),
) -> None:
    """Run a worker until SIGTERM/SIGINT: executes jobs and defers the periodic ones."""
    from storage import DatabaseNotMigrated, DatabaseUnavailable
    from tingfeng.tasks import WorkerSettings, schema_applied, worker_options

    procrastinate_app = _app(config)
    runtime = procrastinate_app.runtime
    worker = WorkerSettings()
    if concurrency:
        worker = worker.model_copy(update={"concurrency": concurrency})
    if not schema_applied(_conninfo(runtime.settings)):
        typer.echo("error: procrastinate's tables are missing: run `tingfeng worker schema`", err=True)
        raise typer.Exit(2)
    try:
        runtime.warm_up()  # migrated schema, catalog synced, model loaded: before taking any job
        from tingfeng.cli import refuse_public_key

        refuse_public_key(runtime.settings.signing_key(), runtime.settings.data_dir)
    except (DatabaseNotMigrated, DatabaseUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    options = worker_options(worker, queues=[q.strip() for q in queues.split(",")] if queues else None, name=name)
    try:
        procrastinate_app.run_worker(**options)
    finally:
        runtime.close()


@app.command()
def defer(
    job: str = typer.Argument(..., help="collect | score | process | deliver | digest | recover | prune"),
    source: Optional[list[str]] = typer.Option(None, "--source", "-s", help="source id (collect; default: every enabled source)"),
    week: Optional[str] = typer.Option(None, help="ISO week for digest"),
    config: Optional[Path] = CatalogOpt,
) -> None:
    """Queue a job now, outside its schedule (e.g. a backfill: `defer collect` then `defer score`)."""
    if job not in JOBS:
        typer.echo(f"unknown job {job!r}; one of {', '.join(JOBS)}", err=True)
        raise typer.Exit(1)
    procrastinate_app = _app(config)
    from tingfeng.tasks import WorkerSettings, _defer_quietly

    async def go() -> list[int | None]:
        task = procrastinate_app.tasks[f"tingfeng.{job}"]
        async with procrastinate_app.open_async():
            if job == "collect":
                ids = source or [s.id for s in procrastinate_app.runtime.catalog.sources if s.enabled]
                return [await _defer_quietly(task.configure(lock=f"source:{s}", queueing_lock=f"source:{s}"), source_id=s)
                        for s in ids]
            if job == "score":
                return [await _defer_quietly(task.configure(queueing_lock=f"score:{slot}"), slot=slot)
                        for slot in range(WorkerSettings().score_slots)]
            if job in ("process", "digest"):
                kwargs = {"week": week} if job == "digest" else {}
                return [await _defer_quietly(task.configure(lock=job, queueing_lock=job), **kwargs)]
            return [await _defer_quietly(task.configure(queueing_lock=job))]

    ids = asyncio.run(go())
    queued = [i for i in ids if i is not None]
    typer.echo(f"{job}: {len(queued)} job(s) queued, {len(ids) - len(queued)} already waiting")


@app.command()
def status(config: Optional[Path] = CatalogOpt) -> None:
    """Jobs per task and status, and the live workers."""
    import psycopg

    conninfo = _conninfo(_settings(config))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT task_name, status, count(*) FROM procrastinate_jobs GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        workers = conn.execute(
            "SELECT count(*), max(now() - last_heartbeat) FROM procrastinate_workers").fetchone()
    for task_name, state, count in rows:
        typer.echo(f"{task_name:<48} {state:<10} {count}")
    typer.echo(f"workers: {workers[0]} (oldest heartbeat {workers[1]})")
