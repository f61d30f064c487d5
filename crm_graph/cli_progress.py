"""The progress bars of the long CLI commands (`generate`, `demo`, `import-csv`, `sync`, `precompute`,
`jobs follow`): one look for all, redrawn several times a second, with an ETA where the total is known.

While a bar is shown, library logging must not break it: httpx and httpcore log every request at
INFO (a sync makes thousands), so they are lowered to WARNING, and log lines that do get through are
printed above the bar instead of across it (the root logger's console handlers write through the
bar's console while it is live).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.text import Text

#: How often a bar is redrawn (rich's refresh thread); the counts it shows are those reported last.
REFRESH_PER_SECOND = 4

#: Libraries whose INFO lines are noise under a bar: one line per HTTP request.
QUIET_LOGGERS = ("httpx", "httpcore")


class CountColumn(ProgressColumn):
    """``done/total`` with thousands separators, or ``done/?`` while the total is unknown."""

    def __init__(self, unit: str = "") -> None:
        super().__init__()
        self.unit = f" {unit}" if unit else ""

    def render(self, task: Task) -> Text:
        total = f"{task.total:,.0f}" if task.total is not None else "?"
        return Text(f"{task.completed:,.0f}/{total}{self.unit}", style="progress.download")


def columns(count: ProgressColumn | None = None) -> tuple[ProgressColumn, ...]:
    """Description, bar, count (default `CountColumn`), elapsed time, and the time left when known."""
    return (TextColumn("{task.description}"), BarColumn(), count or CountColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn())


@contextmanager
def progress_bar(console: Console, *, count: ProgressColumn | None = None, transient: bool = False
                 ) -> Iterator[Progress]:
    """A started `rich.progress.Progress` with our columns; logging is kept quiet under it."""
    progress = Progress(*columns(count), console=console, refresh_per_second=REFRESH_PER_SECOND,
                        transient=transient)
    with quiet_library_logging(), progress:
        with _logging_through(progress.console):
            yield progress


@contextmanager
def quiet_library_logging() -> Iterator[None]:
    """Lower the per-request loggers of HTTP libraries to WARNING, then restore their levels."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextmanager
def _logging_through(console: Console) -> Iterator[None]:
    """Point the root logger's terminal handlers at the live display, which prints above the bar.

    A live `Progress` replaces `sys.stderr` with a proxy that does so; handlers made earlier by
    `logging.basicConfig` still hold the real stream. Nothing changes when the output is not a terminal.
    """
    if not console.is_terminal:
        yield
        return
    real = (sys.__stderr__, sys.__stdout__)
    moved = []
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and handler.stream in real:
            moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)
