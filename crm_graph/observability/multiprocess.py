"""prometheus-client's multi-process mode for `crm-graph serve --workers N`.

Kept apart from `metrics` on purpose: prometheus-client decides at import whether it counts in
memory or in the shared directory, so the directory must be set before anything imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def multiprocess_dir() -> str | None:
    """The multi-process directory of this process, if prometheus-client runs in that mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def prepare(processes: int) -> str | None:
    """Before API processes start: with several, a fresh directory for their series (returned, for
    `cleanup` at exit) unless one is configured; with one process, nothing (it counts in memory)."""
    if processes <= 1 or multiprocess_dir():
        return None
    path = tempfile.mkdtemp(prefix="crm-graph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def cleanup(path: str | None) -> None:
    """Remove a directory `prepare` made (its series are of processes that have ended)."""
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
