"""The CLI's database commands, the refusal to run un-migrated, and the scheduler."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import re
from pathlib import Path

from typer.testing import CliRunner

from tingfeng.cli import app
from tingfeng.example import EXAMPLE_CATALOG


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(TINGFENG_DATA_DIR=str(tmp_path / "var"), TINGFENG_CATALOG=str(tmp_path / "tingfeng.toml"), **extra)
    return env


def test_jobs_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, "utf-8")
    result = CliRunner().invoke(app, ["score"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "has no tingfeng schema" in result.output and "tingfeng db upgrade" in result.output


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    env = _env(tmp_path)
    up = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert up.exit_code == 0, up.output
    assert (tmp_path / "var" / "tingfeng.db").exists()
    cur = CliRunner().invoke(app, ["db", "current"], env=env)
    found = re.search(r"database (\S+), code (\S+)", cur.output)  # the head revision, whatever merges add
    assert found and found.group(1) == found.group(2) and found.group(1).startswith("000"), cur.output


def test_scheduler_plans_every_job_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, "utf-8")
    env = _env(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0

    from tingfeng.jobs import Context
    from tingfeng.scheduler import build_scheduler
    from tingfeng.settings import Settings

    os.environ.update({k: env[k] for k in ("TINGFENG_DATA_DIR", "TINGFENG_CATALOG")})
    try:
        ctx = Context.from_settings(Settings())
    finally:
        for k in ("TINGFENG_DATA_DIR", "TINGFENG_CATALOG"):
            os.environ.pop(k)
    ids = {job.id for job in build_scheduler(ctx).get_jobs()}
    assert ids == {"collect:weibo-keyword", "collect:dianping-sh-wxc", "process", "deliver", "digest", "prune"}
    ctx.db.dispose()

    proc = subprocess.Popen([sys.executable, "-m", "tingfeng.cli", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "scheduler started" in line:
            break
    assert any("scheduler started with 6 jobs" in line for line in lines), "".join(lines)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "scheduler stopped" in out


def test_account_add_stores_only_a_hash_and_checks_manager_scope(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from storage import Database, make_url_for_path
    from storage.models import Account

    env = _env(tmp_path, TINGFENG_NEW_PASSWORD="s3cret-pass")
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    ok = CliRunner().invoke(app, ["account", "add", "zhang", "--role", "marketing"], env=env)
    assert ok.exit_code == 0, ok.output
    refused = CliRunner().invoke(app, ["account", "add", "wang", "--role", "manager"], env=env)
    assert refused.exit_code == 1 and "needs --recipient" in refused.output
    short = CliRunner().invoke(app, ["account", "add", "li"], env=_env(tmp_path, TINGFENG_NEW_PASSWORD="short"))
    assert short.exit_code == 1 and "at least 8" in short.output
    db = Database(make_url_for_path(tmp_path / "var" / "tingfeng.db"))
    with db.session() as s:
        account = s.get(Account, "zhang")
    assert account.password_hash != "s3cret-pass" and PasswordHasher().verify(account.password_hash, "s3cret-pass")
    listed = CliRunner().invoke(app, ["account", "list"], env=env)
    assert "zhang\tmarketing" in listed.output and "argon2" not in listed.output


def test_db_upgrade_installs_the_worker_queue_on_postgresql_only(db, tmp_path: Path) -> None:
    """One deploy command: our migrations, plus procrastinate's tables where workers can run."""
    import sqlalchemy as sa

    env = _env(tmp_path, DATABASE_URL=db.url)
    first = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    second = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    if db.dialect == "postgresql":
        assert "procrastinate schema" in first.output
        assert "procrastinate schema already present" in second.output
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar()
    else:
        assert "procrastinate" not in first.output + second.output


def test_deliver_and_run_refuse_the_public_dev_key(tmp_path: Path) -> None:
    from storage.signing_key import DEV_KEY

    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, "utf-8")
    env = _env(tmp_path, TINGFENG_SECRET_KEY=DEV_KEY)
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    for command in ("deliver", "run"):
        result = CliRunner().invoke(app, [command], env=env)
        assert result.exit_code == 2, (command, result.output)
        assert "public development key 'dev-only-insecure-key'" in result.output
        assert "Set TINGFENG_SECRET_KEY" in result.output and "forge" in result.output
    assert not (tmp_path / "var" / "secret_key").exists()


def test_without_a_key_jobs_sign_with_one_generated_once_in_the_data_dir(tmp_path: Path) -> None:
    from tingfeng.jobs import Context
    from tingfeng.settings import Settings

    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, "utf-8")
    env = {k: v for k, v in _env(tmp_path).items() if k != "TINGFENG_SECRET_KEY"}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    first = CliRunner().invoke(app, ["deliver"], env=env)
    assert first.exit_code == 0, first.output
    key = (tmp_path / "var" / "secret_key").read_text().strip()
    assert CliRunner().invoke(app, ["deliver"], env=env).exit_code == 0
    assert (tmp_path / "var" / "secret_key").read_text().strip() == key  # reused, not regenerated
    ctx = Context.from_settings(Settings(data_dir=tmp_path / "var", catalog=tmp_path / "tingfeng.toml",
                                         secret_key=None), sync=False)
    assert ctx.links.secret_key.get_secret_value() == key and ctx.signing_key.source == "file"
    ctx.db.dispose()


def test_db_prune_dry_run_then_prune_then_nothing_left(tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from storage import Database
    from storage.models import Mention, MentionAnalysis, utcnow

    catalog = EXAMPLE_CATALOG.replace("raw_text_days = 365", "raw_text_days = 30")
    (tmp_path / "tingfeng.toml").write_text(catalog, "utf-8")
    env = _env(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'var' / 'tingfeng.db'}")
    old, new = utcnow() - timedelta(days=40), utcnow() - timedelta(days=2)
    with db.session() as s:
        for i, ts in enumerate([old, old, new]):
            s.add(Mention(id=i + 1, source_id="x", external_id=str(i), text="服务太慢了", author="张小明",
                          content_hash=f"h{i}", published_at=ts, collected_at=ts))
            s.add(MentionAnalysis(mention_id=i + 1, published_at=ts, model="m", model_version="1", score=0.1,
                                  label="negative", scored_at=ts))
    dry = CliRunner().invoke(app, ["db", "prune", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would remove the raw text of 2 mention(s)" in dry.output, dry.output
    done = CliRunner().invoke(app, ["db", "prune"], env=env)
    assert done.exit_code == 0 and "removed the raw text of 2 mention(s)" in done.output, done.output
    with db.session() as s:
        assert [(m.text, m.author) for m in s.exec(select(Mention).order_by(Mention.id))] == [
            ("", None), ("", None), ("服务太慢了", "张小明")]
    again = CliRunner().invoke(app, ["db", "prune", "--days", "1"], env=env)  # --days overrides the catalog
    assert again.exit_code == 0 and "removed the raw text of 1 mention(s)" in again.output, again.output
    db.dispose()


def test_db_prune_without_a_retention_setting_says_so(tmp_path: Path) -> None:
    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG.replace("raw_text_days = 365", ""), "utf-8")
    env = _env(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(app, ["db", "prune"], env=env)
    assert result.exit_code == 1 and "no [retention] raw_text_days" in result.output
