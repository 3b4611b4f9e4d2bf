"""First full render of every dashboard page in Debian Chromium (issues 6 and 15: <= 2 s).

Start the dashboard first, e.g. against the bench data:
    DATABASE_URL=sqlite:///$PWD/bench/out/dashboard.db .venv/bin/python -m streamlit run dashboard/app.py \\
        --server.address 127.0.0.1 --server.port 8598 --server.headless true
then: .venv/bin/python bench/dashboard_render.py http://127.0.0.1:8598/
Times run from navigation (a full page load) until the script is done and no skeleton is left.
Prints the first session on a fresh server (imports, cold caches), two rounds over every page
in one browser (Streamlit's JS chunks cached after the first page), then one fresh browser
profile per page (what a manager opening a link from an alert email sees: nothing cached),
with the time the app script itself ran (script) next to the total.
"""
import sys, time
from playwright.sync_api import sync_playwright
base = sys.argv[1]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# records when the app script first starts running (ms since navigation), whatever the page polls
WATCH_SCRIPT_START = """new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app && app.dataset.testScriptState === 'running' && !window.__started) window.__started = performance.now();
}).observe(document, {subtree: true, attributes: true, childList: true});"""

pages = ["", "stores", "products", "mentions", "alerts", "handling", "touchpoints", "benchmark", "sources", "models", "audit"]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox","--disable-gpu","--no-first-run","--disable-background-networking"])
    pg = b.new_page(viewport={"width": 1400, "height": 1000})
    t = time.perf_counter()
    pg.goto(base); pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120000)  # warm server
    print(f"warm-up (first session on this server) {time.perf_counter() - t:6.2f} s", flush=True)
    for rnd in range(2):
        for name in pages:
            t = time.perf_counter()
            pg.goto(base + name)
            pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120000)
            pg.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=120000)
            dt = time.perf_counter() - t
            exc = pg.locator('[data-testid="stException"]').count()
            print(f"round {rnd} {name or 'overview':11s} {dt:6.2f} s  exceptions={exc}", flush=True)
    for name in pages:  # fresh profile per page: Streamlit's static JS and fonts are fetched again
        ctx = b.new_context(viewport={"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.add_init_script(WATCH_SCRIPT_START)
        t = time.perf_counter()
        pg.goto(base + name)
        pg.wait_for_selector(DONE, timeout=120000)
        done_ms = pg.evaluate("performance.now()")
        started_ms = pg.evaluate("window.__started || 0")
        started, script = started_ms / 1000, (done_ms - started_ms) / 1000
        pg.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=120000)
        dt = time.perf_counter() - t
        print(f"cold    {name or 'overview':11s} {dt:6.2f} s  (frontend until script starts {started:4.2f} s, script {script:4.2f} s)", flush=True)
        ctx.close()
    b.close()
