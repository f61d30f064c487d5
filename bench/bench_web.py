"""Benchmark of the web dashboard's first screen on the demo store (docs/PERFORMANCE.md, "Web dashboard").

    python bench/bench_web.py [--customers 10000] [--runs 5] [--port 8001]

Starts `crm-graph demo` (README command 1, embedded mode, SQLite) on a fresh database in a temporary
folder, then opens `/` in Debian's Chromium (headless, through Playwright) with an empty cache
`--runs` times and reports:

- page weight: the bytes the first screen transfers (HTML, CSS, JavaScript modules, the GraphQL
  answer), and the number of requests;
- time to interactive: from the start of navigation until the whole first screen (its last widget,
  the RFM grid) is rendered from the API's answer and the page is idle for input; also the time of
  the screen's GraphQL request on its own.

The first run also fills the server's short dashboard cache; the figures are the median and the
slowest of the runs, printed with the load average (measure on a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.browser import CHROMIUM, DemoServer, demo_server, launch_chromium  # noqa: E402

MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const graphql = resources.filter((r) => r.name.endsWith('/graphql'));
  const bytes = [nav, ...resources].reduce((sum, r) => sum + (r.transferSize || r.encodedBodySize || 0), 0);
  return {
    requests: 1 + resources.length,
    bytes,
    decoded: [nav, ...resources].reduce((sum, r) => sum + (r.decodedBodySize || 0), 0),
    js: resources.filter((r) => r.name.endsWith('.js')).reduce((sum, r) => sum + (r.transferSize || 0), 0),
    graphqlMs: graphql.length ? graphql[0].duration : null,
    interactiveMs: window.__firstScreenAt,
  };
}"""

#: Marks the moment the first screen is complete, from inside the page (a MutationObserver on <main>).
MARK = """
new MutationObserver((_, observer) => {
  const main = document.getElementById('main');
  if (main && main.querySelector('[data-widget="rfm"]') && !main.hasAttribute('aria-busy')) {
    window.__firstScreenAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true, attributes: true });
"""


def measure(server: DemoServer, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(MARK)
            page = context.new_page()
            page.goto(server.base + "/")
            page.wait_for_function("() => window.__firstScreenAt !== undefined", timeout=60_000)
            results.append(page.evaluate(MEASURE))
            context.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=None, help="port of the demo server (default: a free one)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        started = time.perf_counter()
        with demo_server(f"sqlite:///{workdir / 'demo.db'}", workdir, customers=args.customers, timeout=1800,
                         port=args.port) as server:
            print(f"demo store of {args.customers:,} customers ready in {time.perf_counter() - started:.0f} s", flush=True)
            load_before = os.getloadavg()
            results = measure(server, args.runs)
            load_after = os.getloadavg()
    interactive = [r["interactiveMs"] for r in results]
    graphql = [r["graphqlMs"] for r in results if r["graphqlMs"] is not None]
    first = results[0]
    print(f"runs: {len(results)}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"first screen: {first['requests']} requests, {first['bytes'] / 1024:.1f} KiB transferred "
          f"({first['decoded'] / 1024:.1f} KiB uncompressed; JavaScript {first['js'] / 1024:.1f} KiB)")
    print(f"time to interactive: median {statistics.median(interactive):.0f} ms, slowest {max(interactive):.0f} ms, "
          f"first run {interactive[0]:.0f} ms")
    if graphql:
        print(f"the screen's GraphQL request: median {statistics.median(graphql):.0f} ms, slowest {max(graphql):.0f} ms")


if __name__ == "__main__":
    main()
