"""Helpers of the browser tests: the real `crm-graph demo` as a server on 127.0.0.1, and Debian's
Chromium driven by Playwright (its own browser download is not used).

A missing Chromium or Playwright skips the browser tests, except under CI=true, where it fails them
(scripts/test.py installs Chromium with apt there).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("CRM_GRAPH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Where the tests save their screenshots: CRM_GRAPH_SCREENSHOT_DIR (docs/screenshots/ refreshes the
#: committed ones), else a temporary folder of the test session.
SCREENSHOT_DIR = os.environ.get("CRM_GRAPH_SCREENSHOT_DIR")


def require_browser() -> None:
    """Skip (or, under CI=true, fail) when Playwright or Chromium is missing."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem is None and not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problem = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if IN_CI:
            pytest.fail(problem + " (CI=true requires it)", pytrace=False)
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DemoServer:
    """A running `crm-graph demo`: its base URL, the admin key it printed and the lines it printed."""

    def __init__(self, base: str, key: str, lines: list[str]) -> None:
        self.base = base
        self.key = key
        self.lines = lines
        self.client = httpx.Client(base_url=base, timeout=60)

    def data(self, query: str, variables: dict | None = None, key: str | None = None) -> dict:
        """The answer's data for a key-less request from this machine (the demo store), or with `key`."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body = self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers).json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def wait_for_job(self, job_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.data("query($id: ID!) { job(id: $id) { status error } }", {"id": job_id})["job"]
            if job["status"] in ("SUCCEEDED", "FAILED"):
                return job
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def _environment(database_url: str, workdir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without crm-graph settings, plus the server's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_GRAPH_") or k.startswith("CRM_GRAPH_TEST_")}
    env.update(CRM_GRAPH_DATABASE_URL=database_url, CRM_GRAPH_HOST="127.0.0.1", CRM_GRAPH_EXPORT_DIR=str(workdir / "exports"),
               CRM_GRAPH_IMPORT_DIR=str(workdir / "imports"), CRM_GRAPH_LOG_LEVEL="WARNING", COLUMNS="200", **settings)
    return env


@contextmanager
def _running(args: list[str], env: dict[str, str], workdir: Path, port: int, timeout: float, needs_key: bool):
    """Run `python -m crm_graph args` until the context ends; yields (base URL, printed lines, key)."""
    process = subprocess.Popen([sys.executable, "-m", "crm_graph", *args], cwd=workdir, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []

    def read_output() -> None:
        # In a thread: select() on the pipe misses lines already in Python's read buffer.
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        key = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                reader.join(5)
                raise AssertionError(f"crm-graph {args[0]} exited early:\n" + "".join(lines))
            key = next((found.group(1) for line in list(lines) if (found := re.search(r"Bearer (\S+)", line))), None)
            if key or not needs_key:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"crm-graph {args[0]} did not start in time:\n" + "".join(lines))
        yield base, lines, key
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(5)
        process.stdout.close()


@contextmanager
def demo_server(database_url: str, workdir: Path, customers: int = 400, timeout: float = 300, port: int | None = None,
                **settings: str):
    """Run `crm-graph demo` on `database_url` (a fresh database) until the context ends, on `port`
    (default: a free one), with `settings` as extra environment variables (CRM_GRAPH_...)."""
    port = port or free_port()
    args = ["demo", "--customers", str(customers), "--port", str(port)]
    environment = _environment(database_url, workdir, **settings)
    with _running(args, environment, workdir, port, timeout, needs_key=True) as (base, lines, key):
        server = DemoServer(base, key, lines)
        try:
            yield server
        finally:
            server.client.close()


@contextmanager
def production_server(database_url: str, workdir: Path, timeout: float = 120):
    """Run `crm-graph serve` in production mode on an existing database; yields its base URL. Its
    scheduler is off: the demo server on the same database runs the jobs."""
    port = free_port()
    env = _environment(database_url, workdir, CRM_GRAPH_PRODUCTION="true", CRM_GRAPH_SECRET_KEY="p" * 48,
                       CRM_GRAPH_EMBEDDED_SCHEDULER="false")
    with _running(["serve", "--port", str(port)], env, workdir, port, timeout, needs_key=False) as (base, _, _):
        yield base


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class Page:
    """A browser page on the demo server that refuses (and records) every request leaving 127.0.0.1
    and records console errors and uncaught exceptions (a CSP violation shows as one)."""

    def __init__(self, browser, server: DemoServer, screenshots: Path, *, width: int = 1280, height: int = 900,
                 base: str | None = None) -> None:
        self.server = server
        self.base = base or server.base
        self.screenshots = screenshots
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US",
                                           accept_downloads=True)
        self.outside: list[str] = []
        self.errors: list[str] = []
        origin = self.base

        def guard(route):
            url = route.request.url
            if url.startswith(origin + "/") or url == origin or url.startswith("data:") or url.startswith("blob:"):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        self.context.route("**/*", guard)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> Path:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")  # else the sticky header shows mid-page
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"the page asked for addresses outside 127.0.0.1: {self.outside}"


def screenshot_dir(tmp_path_factory, backend: str) -> Path:
    """Screenshots of the SQLite run go to SCREENSHOT_DIR when it is set (one set of pictures)."""
    if SCREENSHOT_DIR and backend == "sqlite":
        return Path(SCREENSHOT_DIR)
    return tmp_path_factory.mktemp(f"screenshots-{backend}")

