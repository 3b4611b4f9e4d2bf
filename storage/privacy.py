"""Data-protection rules shared by every place that shows or exports people's data. Pure.

Masking rule for author names (nicknames): keep the first character and replace the rest
with a fixed ``***``, so the mask neither reveals the rest nor the length of the name
(张小明 → 张***, Alice → A***). A one-character name becomes ``***`` (its first character
would be all of it). Empty names stay empty.
"""

from __future__ import annotations

MASK = "***"


def mask_author(name: object) -> object:
    """An author name as a viewer without the ``see_authors`` permission sees it (see the module rule)."""
    if not isinstance(name, str):
        return name  # None / NaN: nothing to hide
    name = name.strip()
    if not name:
        return name
    return MASK if len(name) == 1 else name[0] + MASK
