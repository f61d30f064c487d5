"""Benchmark: a WooCommerce sync of many orders from the fake shop into PostgreSQL.

    python bench/woocommerce_sync.py --orders 100000

The fake shop runs in its own process (so that its memory is not counted) and generates the orders
on the fly from the vendor's sample order. Prints orders/s, and the sync process's resident memory
sampled along the run, which must stay flat as the number of orders grows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import current_rss_mb, peak_rss_mb, scratch_postgres  # noqa: E402

SERVER = """
import sys, time
from crm_graph_woocommerce.fake_server import FakeWooCommerce, SyntheticOrders
fake = FakeWooCommerce()
fake.orders = SyntheticOrders(int(sys.argv[1]), customers=max(1, int(sys.argv[1]) // 4))
print(fake.start(), flush=True)
while True:
    time.sleep(3600)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    from sqlmodel import Session

    from crm_graph.services.connectors import register_connector
    from crm_graph.services.stores import create_store
    from crm_graph.services.sync import sync_connector

    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.orders)], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        with scratch_postgres() as (_url, engine):
            with Session(engine, expire_on_commit=False) as session:
                store = create_store(session, "bench-woo")
                config = register_connector(session, store, "woocommerce", {
                    "url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test"})
                session.commit()
            samples: list[tuple[int, float]] = []
            step = max(1, args.orders // 10)

            def progress(done: int, _total) -> None:
                if not samples or done - samples[-1][0] >= step:
                    samples.append((done, current_rss_mb()))

            started = time.perf_counter()
            summary = sync_connector(engine, store.id, config.id, progress=progress)
            seconds = time.perf_counter() - started
    finally:
        server.terminate()
    print(f"orders: {args.orders:,}; counts={dict(summary.counts)}")
    print(f"sync: {seconds:.1f} s = {args.orders / seconds:,.0f} orders/s")
    print("RSS along the run (records done: MB): " + ", ".join(f"{done:,}: {rss:.0f}" for done, rss in samples))
    print(f"peak RSS of the sync process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
