"""The key that signs e-mailed acknowledge/resolve links and login cookies.

``TINGFENG_SECRET_KEY`` wins when set. Without it (the embedded, one-machine setup) a random
key is generated once and kept in ``<data dir>/secret_key`` (mode 0600), so links survive
restarts and no two installations share a key. The old built-in key :data:`DEV_KEY` is
public (it is in this repository): anything signed with it can be forged, so it is only
tolerated by the demo and flagged everywhere else.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from storage.errors import SigningKeyError

DEV_KEY = "dev-only-insecure-key"
KEY_FILE = "secret_key"
KeySource = Literal["env", "file", "dev"]


@dataclass(frozen=True)
class SigningKey:
    """A signing key and where it came from (``env``, a generated ``file``, or the public ``dev`` key)."""

    value: str = field(repr=False)
    source: KeySource
    path: Path | None = None

    @property
    def is_public(self) -> bool:
        """True for the known public development key: signatures made with it prove nothing."""
        return self.value == DEV_KEY


def key_file(data_dir: Path) -> Path:
    """Where the generated key of a data directory lives."""
    return Path(data_dir) / KEY_FILE


def load_or_create_key(path: Path) -> str:
    """The key stored at ``path``; a new random one (written 0600, never overwritten) when there is none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"signing key file {path}: {exc}; set TINGFENG_SECRET_KEY instead") from exc
    if len(value) < 32:
        raise SigningKeyError(f"signing key file {path} holds no usable key (under 32 characters); delete it to "
                              "generate a new one, or set TINGFENG_SECRET_KEY")
    return value


def _create(path: Path) -> None:
    """Write a new key beside ``path``, then link it into place: a concurrent run either wins the
    link or finds the complete file, never a half-written one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run made it first: everyone uses that one
    finally:
        tmp.unlink(missing_ok=True)


def signing_key(configured: str | None, data_dir: Path) -> SigningKey:
    """The key in force: ``configured`` (the environment's) when given, else the data directory's generated one."""
    if configured:
        return SigningKey(configured, "dev" if configured == DEV_KEY else "env")
    path = key_file(data_dir)
    return SigningKey(load_or_create_key(path), "file", path)
