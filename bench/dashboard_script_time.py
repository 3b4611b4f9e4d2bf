"""Server-side share of each dashboard page's first render (issue 15): the app script alone, no browser.

    DATABASE_URL=sqlite:////path/to/demo/tingfeng.db TINGFENG_DATA_DIR=/path/to/demo \\
        .venv/bin/python bench/dashboard_script_time.py

Runs every page once in a fresh Streamlit AppTest session (process caches warm after the
first, as on a running server) and prints its wall time; the first line is the first session
in this process (imports, empty caches), the baseline that a freshly started server pays once.
Compare with bench/dashboard_render.py: the difference is Streamlit's frontend in the browser.
"""
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ["stores", "products", "mentions", "alerts", "handling", "touchpoints", "benchmark", "sources", "models", "audit"]


def run(page: str | None) -> float:
    """Seconds for one fresh session's first run of ``page`` (None: the default page)."""
    at = AppTest.from_file(APP, default_timeout=120)
    t = time.perf_counter()
    (at.switch_page(f"views/{page}.py") if page else at).run()
    if at.exception:
        sys.exit(f"{page or 'overview'}: {at.exception[0].value}")
    return time.perf_counter() - t


print(f"first session in this process (overview)  {run(None):5.2f} s", flush=True)
print(f"{'overview':12s} {run(None):5.2f} s", flush=True)
for page in PAGES:
    print(f"{page:12s} {run(page):5.2f} s", flush=True)
