"""What our migrations manage: every table but those other software keeps beside ours."""

FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def include_name(name: str | None, type_: str, _parent: dict) -> bool:
    """Alembic ``include_name`` hook: leave procrastinate's tables alone."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))
