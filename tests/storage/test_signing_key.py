"""The signing key: the environment's when set, else one random key per data directory, kept 0600."""

from __future__ import annotations

import stat

import pytest

from storage.errors import SigningKeyError
from storage.signing_key import DEV_KEY, key_file, signing_key


def test_two_fresh_data_dirs_get_different_random_keys_kept_0600(tmp_path):
    a, b = signing_key(None, tmp_path / "a"), signing_key(None, tmp_path / "b")
    assert a.source == b.source == "file" and a.value != b.value
    assert len(a.value) >= 48 and DEV_KEY not in (a.value, b.value) and not a.is_public
    assert a.path == key_file(tmp_path / "a")
    assert stat.S_IMODE(a.path.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["secret_key"]  # no temp file left behind
    assert a.value not in repr(a)


def test_the_key_is_reused_across_runs_and_the_environment_wins(tmp_path):
    first = signing_key(None, tmp_path)
    assert signing_key(None, tmp_path).value == first.value
    key_file(tmp_path).chmod(0o644)
    assert signing_key(None, tmp_path).value == first.value
    assert stat.S_IMODE(key_file(tmp_path).stat().st_mode) == 0o600  # tightened again
    env = signing_key("from-the-environment-" + "x" * 20, tmp_path)
    assert (env.source, env.value, env.path) == ("env", "from-the-environment-" + "x" * 20, None)
    dev = signing_key(DEV_KEY, tmp_path)
    assert dev.source == "dev" and dev.is_public


def test_an_emptied_key_file_is_a_clear_error_not_a_weak_key(tmp_path):
    key_file(tmp_path).write_text("short\n")
    with pytest.raises(SigningKeyError, match="secret_key.*TINGFENG_SECRET_KEY"):
        signing_key(None, tmp_path)
