"""Errors raised by the tingfeng shell (settings, catalog, jobs, demo).

::

    TingfengError
    ├── CatalogError        the catalog file is unreadable or invalid: file + every problem
    └── JobError            a job could not run (e.g. its stage is not installed)
"""

from __future__ import annotations


class TingfengError(Exception):
    """Base of every error of the tingfeng shell."""


class CatalogError(TingfengError):
    """The catalog is refused; ``problems`` lists each as ``key.path: reason``."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {file}: {p}" for p in problems)
        super().__init__(f"{file}: {len(problems)} problem(s) in the catalog\n{lines}")


class JobError(TingfengError):
    """A job failed in a way the operator must act on."""
