"""Fresh-browser first render of every dashboard page on two (or more) servers, interleaved (issue 15).

    .venv/bin/python bench/dashboard_render_ab.py 3 base=http://127.0.0.1:8816/ new=http://127.0.0.1:8815/

The same measurement as the ``cold`` lines of bench/dashboard_render.py (a new browser profile
per page, from navigation until the script is done and no skeleton is left), but each page is
loaded on every server in turn, ``REPS`` times (order reversed every other round), so on a
shared machine both servers see the same load; prints the median (and range) per page and server.
``PAGES=stores,products`` limits the pages ("" is the overview).
"""
import os
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ALL = ",stores,products,mentions,alerts,handling,touchpoints,benchmark,sources,models,audit"


def main(reps: int, servers: list[list[str]], pages: list[str]) -> None:
    """Measure and print the table."""
    res: dict[tuple[str, str], list[float]] = {(s, p): [] for s, _ in servers for p in pages}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium",
                               args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        for _, url in servers:  # each server's first session (imports, caches) is not a page's figure
            pg = b.new_page()
            pg.goto(url)
            pg.wait_for_selector(DONE, timeout=120000)
            pg.close()
        for r in range(reps):
            for p in pages:
                for s, url in (servers if r % 2 == 0 else servers[::-1]):
                    ctx = b.new_context(viewport={"width": 1400, "height": 1000})
                    pg = ctx.new_page()
                    t = time.perf_counter()
                    pg.goto(url + p)
                    pg.wait_for_selector(DONE, timeout=120000)
                    pg.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=120000)
                    res[(s, p)].append(time.perf_counter() - t)
                    if pg.locator('[data-testid="stException"]').count():
                        sys.exit(f"{s} {p or 'overview'}: the page raised")
                    ctx.close()
            print(f"round {r} done, load {open('/proc/loadavg').read().split()[0]}", file=sys.stderr, flush=True)
        b.close()
    print("page        " + "".join(f"{s:>24s}" for s, _ in servers))
    for p in pages:
        print(f"{p or 'overview':12s}" + "".join(
            f"   {statistics.median(res[(s, p)]):5.2f} ({min(res[(s, p)]):4.2f}–{max(res[(s, p)]):4.2f})" for s, _ in servers))
    for s, _ in servers:
        medians = [statistics.median(res[(s, p)]) for p in pages]
        print(f"{s}: {sum(m < 2 for m in medians)}/{len(pages)} pages under 2 s (median), mean of medians {statistics.mean(medians):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]), [a.split("=", 1) for a in sys.argv[2:]], (os.environ.get("PAGES") or ALL).split(","))
