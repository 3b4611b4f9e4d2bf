"""First full render of every dashboard page in Debian Chromium (issue 6: <= 2 s).

Start the dashboard first, e.g. against the bench data:
    DATABASE_URL=sqlite:///$PWD/bench/out/dashboard.db .venv/bin/python -m streamlit run dashboard/app.py \\
        --server.address 127.0.0.1 --server.port 8598 --server.headless true
then: .venv/bin/python bench/dashboard_render.py http://127.0.0.1:8598/
Times run from navigation (a full page load) until the script is done and no skeleton is left.
"""
import sys, time
from playwright.sync_api import sync_playwright
base = sys.argv[1]
pages = ["", "stores", "products", "mentions", "alerts", "sources"]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox","--disable-gpu","--no-first-run","--disable-background-networking"])
    pg = b.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(base); pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120000)  # warm server
    for rnd in range(2):
        for name in pages:
            t = time.perf_counter()
            pg.goto(base + name)
            pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120000)
            pg.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=120000)
            dt = time.perf_counter() - t
            exc = pg.locator('[data-testid="stException"]').count()
            print(f"round {rnd} {name or 'overview':10s} {dt:6.2f} s  exceptions={exc}", flush=True)
    b.close()
