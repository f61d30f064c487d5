"""The long commands' progress bars move: the real CLI runs in a pseudo-terminal (as an operator sees
it; rich draws a live bar only on a terminal) and the counts it drew are read back from the screen."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crm_graph.cli_progress import QUIET_LOGGERS, REFRESH_PER_SECOND
from crm_graph.generator import generate_store

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COUNT = re.compile(r"(\d[\d,]*)/(\d[\d,]*|\?)")


def in_terminal(*args: str, database_url: str, timeout: float = 240, **env: str) -> tuple[int, str]:
    """Run `crm-graph ARGS` with its output on a pseudo-terminal; (exit code, screen text without colours)."""
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, "COLUMNS": "160", "TERM": "xterm", **env}
    for name in ("CRM_GRAPH_REDIS_URL", "CRM_GRAPH_DEV_STORE", "NO_COLOR"):
        environment.pop(name, None)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "crm_graph", *args], cwd=ROOT, env=environment,
                               stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    output = bytearray()
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the terminal closed: the process has ended
                    break
                if not data:
                    break
                output += data
            elif process.poll() is not None:
                break
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return code, ANSI.sub("", output.decode("utf-8", "replace"))


def drawn_counts(screen: str) -> list[tuple[int, int | None]]:
    """The done/total pairs the bar showed, in order, each change once."""
    seen: list[tuple[int, int | None]] = []
    for match in COUNT.finditer(screen):
        pair = (int(match.group(1).replace(",", "")),
                None if match.group(2) == "?" else int(match.group(2).replace(",", "")))
        if not seen or seen[-1] != pair:
            seen.append(pair)
    return seen


def intermediate(counts: list[tuple[int, int | None]], total: int) -> set[int]:
    """The distinct values shown strictly between the start and the end of a bar of `total`."""
    return {done for done, shown in counts if shown == total and 0 < done < total}


def test_bars_redraw_at_least_once_a_second():
    assert REFRESH_PER_SECOND >= 1
    assert set(QUIET_LOGGERS) >= {"httpx", "httpcore"}


def test_generate_bar_moves_within_a_chunk(db_url, make_store):
    """12,000 customers are one chunk of the generator: the bar used to sit at 0 until the end."""
    store = make_store(timezone="Europe/Warsaw", currency="PLN")
    code, screen = in_terminal("generate", store.slug, "--customers", "12000", database_url=db_url)
    assert code == 0, screen[-2000:]
    counts = drawn_counts(screen)
    assert len(intermediate(counts, 12_000)) >= 3, counts
    assert counts.index((12_000, 12_000)) > 0 and "ETA" in screen and "Generated 12,000 customers" in screen


def test_precompute_bar_moves_in_embedded_mode(db_url, engine, make_store):
    """Without Redis the command runs the job on its own threads; on SQLite the job's row is written
    only between chunks, and the bar used to show 0/? until the end."""
    store = make_store(timezone="Europe/Warsaw", currency="PLN")
    generate_store(engine, store, customers=3000, seed=3, anchor=date(2026, 6, 1))
    code, screen = in_terminal("precompute", store.slug, "--from", "2026-01-01", "--to", "2026-05-31",
                               database_url=db_url)
    assert code == 0, screen[-2000:]
    counts = drawn_counts(screen)
    assert len(intermediate(counts, 151)) >= 3, counts
    assert (151, 151) in counts and "ETA" in screen and "succeeded" in screen


def test_import_csv_bar_shows_bytes_and_an_eta(db_url, make_store, tmp_path):
    store = make_store()
    path = tmp_path / "customers.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_id,email,first_name\n")
        for i in range(40_000):
            out.write(f"c{i},person{i}@example.com,Name{i}\n")
    code, screen = in_terminal("import-csv", store.slug, str(path), "--kind", "customers", database_url=db_url)
    assert code == 0, screen[-2000:]
    sizes = re.findall(r"import customers .*?([\d.]+)/([\d.]+) (?:k|M)?B", screen)
    assert len(set(sizes)) >= 3, screen[-2000:]
    assert "ETA" in screen and "40,000" in screen


@pytest.fixture
def woo_shop():
    from crm_graph_woocommerce.fake_server import FakeWooCommerce, SyntheticOrders

    shop = FakeWooCommerce()
    shop.orders = SyntheticOrders(1500, customers=0)
    url = shop.start()
    yield url
    shop.stop()


def test_sync_bar_shows_the_platforms_total_and_no_request_logs(db_url, make_store, woo_shop):
    store = make_store()
    environment = {"CRM_GRAPH_ALLOW_PRIVATE_CONNECTOR_URLS": "true", "CRM_GRAPH_LOG_LEVEL": "INFO"}
    settings = ('{"url": "%s", "consumer_key": "ck_test", "consumer_secret": "cs_test", "retry_backoff": 0.01}'
                % woo_shop)
    code, screen = in_terminal("connect", store.slug, "woocommerce", "--settings", settings, database_url=db_url,
                               **environment)
    assert code == 0, screen
    code, screen = in_terminal("sync", store.slug, "woocommerce", database_url=db_url, **environment)
    assert code == 0, screen[-2000:]
    counts = drawn_counts(screen)
    assert (1500, 1500) in counts and intermediate(counts, 1500), counts
    assert "ETA" in screen
    assert "HTTP Request" not in screen and "httpx" not in screen and "httpcore" not in screen
