"""Audit lines the dashboard writes itself: logins and exports (``storage.audit``).

Alert actions, corrections and replies are logged by ``storage`` in their own transaction.
"""

from __future__ import annotations

from dashboard.access import Access
from dashboard.scope import Scope
from storage import Database, audit


def login(db: Database, access: Access, via: str) -> None:
    """A successful login (``via``: local or oidc)."""
    audit.log(db, access.user, audit.LOGIN, scope=_who(access), detail={"via": via, "role": access.role})


def login_failed(db: Database, username: str) -> None:
    """A refused local login, with the user name typed in."""
    audit.log(db, username or "(空)", audit.LOGIN_FAILED, detail={"via": "local"})


def exported(db: Database, scope: Scope, what: str, rows: int) -> None:
    """An export of ``rows`` rows of ``what`` under ``scope``'s filters."""
    f = scope.filters
    parts = [f"{f.start:%Y-%m-%d}..{f.end:%Y-%m-%d}"]
    for name in ("brands", "regions", "stores", "products", "platforms"):
        values = getattr(f, name, ())
        if values:
            parts.append(f"{name}={','.join(values)}")
    audit.log(db, scope.access.user, audit.EXPORT, target=what, scope=" ".join(parts),
              detail={"rows": rows, "authors_masked": not scope.access.can_see_authors})


def _who(access: Access) -> str:
    return "all stores" if access.stores is None else "stores=" + ",".join(sorted(access.stores))
