"""Who is looking: local accounts (argon2) and OIDC e-mails mapped to an :class:`Access`."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select

from dashboard.access import RECIPIENT_ROLES, Access, permissions_for
from dashboard.queries.handling import catalog_setting
from storage import Database
from storage.models import Account, Recipient, Store


def scope_stores(db: Database, recipient: Recipient | None) -> frozenset[str]:
    """Every store a recipient's catalog scope covers (stores ∪ regions ∪ brands)."""
    if recipient is None:
        return frozenset()
    with db.session() as s:
        ids = set(recipient.stores or [])
        if recipient.regions:
            ids |= set(s.exec(select(Store.id).where(Store.region_id.in_(recipient.regions))).all())
        if recipient.brands:
            ids |= set(s.exec(select(Store.id).where(Store.brand_id.in_(recipient.brands))).all())
    return frozenset(ids)


def _access_for(db: Database, user: str, role: str, recipient: Recipient | None) -> Access:
    privacy = catalog_setting(db, "privacy")
    if role == "manager":
        return Access(
            user=user,
            role=role,
            stores=scope_stores(db, recipient),
            regions=frozenset(recipient.regions or []) if recipient else frozenset(),
            brands=frozenset(recipient.brands or []) if recipient else frozenset(),
            permissions=permissions_for(role, privacy),
        )
    role = role if role in {"admin", "marketing"} else "marketing"
    return Access(user=user, role=role, permissions=permissions_for(role, privacy))


def access_for_account(db: Database, username: str, password: str) -> Access | None:
    """Check a local account's password; None when the username or password is wrong."""
    with db.session() as s:
        account = s.get(Account, username)
        recipient = s.get(Recipient, account.recipient_id) if account and account.recipient_id else None
    if account is None:
        PasswordHasher().hash(password)  # same work either way: no username oracle by timing
        return None
    try:
        PasswordHasher().verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return _access_for(db, username, account.role, recipient)


def account_fingerprint(db: Database, username: str) -> str | None:
    """A short digest of a local account's password hash (None: no such account): a
    session signed with it ends when the password changes or the account is removed."""
    with db.session() as s:
        account = s.get(Account, username)
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16] if account else None


def access_for_session(db: Database, username: str, fingerprint: str) -> Access | None:
    """The access of a local account whose signed session cookie carries ``fingerprint``;
    None when the account is gone or its password changed since."""
    if not hmac.compare_digest(account_fingerprint(db, username) or "", fingerprint or "-"):
        return None
    with db.session() as s:
        account = s.get(Account, username)
        recipient = s.get(Recipient, account.recipient_id) if account and account.recipient_id else None
    return _access_for(db, username, account.role, recipient) if account else None


def access_for_email(db: Database, email: str | None, admin_emails: list[str] | tuple[str, ...] = ()) -> Access | None:
    """The access of an OIDC user, by the recipient with that e-mail; None if unknown."""
    if not email:
        return None
    email = email.strip().lower()
    if email in {e.strip().lower() for e in admin_emails}:
        return Access(user=email, role="admin", permissions=permissions_for("admin", catalog_setting(db, "privacy")))
    with db.session() as s:
        recipients = s.exec(select(Recipient).where(Recipient.email.is_not(None))).all()
    recipient = next((r for r in recipients if (r.email or "").strip().lower() == email), None)
    if recipient is None:
        return None
    return _access_for(db, email, RECIPIENT_ROLES.get(recipient.role, "manager"), recipient)
