"""Who is looking, and which stores they may see.

Roles: ``admin`` (everything), ``marketing`` (all stores, read, acknowledge, correct labels),
``manager`` (only the stores of their catalog scope: the stores, regions and brands of
the :class:`storage.models.Recipient` linked to their account or e-mail). The query
layer filters every read by :attr:`Access.stores`, so hiding pages is not the only
protection.

Permissions beyond the role's actions: ``see_authors`` (author names shown unmasked on
pages and in exports; everyone else sees :func:`storage.privacy.mask_author`'s mask).
Admins have it by default; the catalog's ``[privacy] see_authors`` lists the roles that do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher

#: Recipient.role → dashboard role.
RECIPIENT_ROLES = {"admin": "admin", "marketing": "marketing", "hq": "marketing",
                   "area_manager": "manager", "manager": "manager"}
DASHBOARD_ROLES = ("admin", "marketing", "manager")
SEE_AUTHORS = "see_authors"
#: Permissions each role has when the catalog says nothing else.
DEFAULT_PERMISSIONS = {"admin": frozenset({SEE_AUTHORS}), "marketing": frozenset(), "manager": frozenset()}


def permissions_for(role: str, privacy: dict | None = None) -> frozenset[str]:
    """The permissions of ``role``: the defaults, or the roles the catalog's ``[privacy]`` section lists."""
    roles: Iterable[str] | None = (privacy or {}).get(SEE_AUTHORS)
    if roles is None:
        return DEFAULT_PERMISSIONS.get(role, frozenset())
    return frozenset({SEE_AUTHORS}) if role in set(roles) else frozenset()


@dataclass(frozen=True)
class Access:
    """A viewer's identity, role and store scope (``stores=None`` means every store)."""

    user: str
    role: str
    stores: frozenset[str] | None = None
    regions: frozenset[str] = frozenset()  # whole regions in scope (for region-level alerts)
    brands: frozenset[str] = frozenset()  # whole brands in scope (for brand/product-level alerts)
    permissions: frozenset[str] | None = None  # None: the role's defaults (DEFAULT_PERMISSIONS)

    @property
    def restricted(self) -> bool:
        """True when the viewer may only see some stores."""
        return self.stores is not None

    @property
    def can_acknowledge(self) -> bool:
        """Every role may acknowledge alerts it can see."""
        return self.role in {"admin", "marketing", "manager"}

    @property
    def can_resolve(self) -> bool:
        """Admins and managers resolve; marketing only reads and acknowledges."""
        return self.role in {"admin", "manager"}

    @property
    def can_correct(self) -> bool:
        """Admins and marketing mark a mention's sentiment or touchpoint as wrong."""
        return self.role in {"admin", "marketing"}

    @property
    def can_see_authors(self) -> bool:
        """Whether author names are shown (and exported) unmasked to this viewer."""
        granted = self.permissions if self.permissions is not None else DEFAULT_PERMISSIONS.get(self.role, frozenset())
        return SEE_AUTHORS in granted

    def allows_store(self, store_id: str | None) -> bool:
        """Whether this viewer may see data of ``store_id``."""
        return self.stores is None or (store_id is not None and store_id in self.stores)


def local_admin() -> Access:
    """The viewer when no login is configured (the app then listens on localhost only)."""
    return Access(user="本机用户", role="admin")


def hash_password(password: str) -> str:
    """An argon2 hash for an :class:`Account` row."""
    return PasswordHasher().hash(password)
