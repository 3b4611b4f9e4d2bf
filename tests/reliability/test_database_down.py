"""The database cannot be reached when a command starts: a clear one-line error naming the
database (password hidden) and exit status 2, before anything is fetched or sent."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from tingfeng.cli import app
from tingfeng.example import EXAMPLE_CATALOG


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [["collect"], ["process"], ["deliver"]])
def test_a_command_against_an_unreachable_database_exits_2_with_the_reason(tmp_path, command):
    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, encoding="utf-8")
    url = f"postgresql://tingfeng:s3cret-pw@127.0.0.1:{closed_port()}/tingfeng"
    result = CliRunner().invoke(app, command, env={
        "DATABASE_URL": url, "TINGFENG_CATALOG": str(tmp_path / "tingfeng.toml"),
        "TINGFENG_DATA_DIR": str(tmp_path / "var"), "TINGFENG_SECRET_KEY": "x" * 48})
    assert result.exit_code == 2, result.output
    assert "error: cannot connect to postgresql+psycopg://tingfeng:***@127.0.0.1" in result.output
    assert "Connection refused" in result.output
    assert "s3cret-pw" not in result.output
