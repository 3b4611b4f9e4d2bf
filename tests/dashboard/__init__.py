"""The dashboard tests.

pytest imports these files as ``dashboard.test_*`` (``tests/`` is their package root), so
this package stands in for the real ``dashboard`` in the test process. Its submodules
(``dashboard.queries``, ``dashboard.charts`` …) must come from this checkout's
``dashboard/``, not from wherever the project happens to be installed in editable mode.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parents[2] / "dashboard"))  # noqa: F821 - a package's __path__
