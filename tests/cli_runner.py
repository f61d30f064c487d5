"""Run the `crm-graph` command in the test process, as a subprocess would see it.

A subprocess of the CLI costs a Python start and the import of the whole service (a second or more
of CPU each); most CLI tests check only what a command printed, its exit code and what it wrote.
`run_main` runs `crm_graph.cli.main` (the entry point, with its one-line error handling) here, with
the environment and working directory the subprocess would have had, and returns what it printed.
Each command family keeps at least one test through a real `python -m crm_graph` process, so the
installed entry point stays proven.

What a process would have kept to itself is put back afterwards: the environment, the working
directory, the logging setup `main` applies, the settings cache, and the engines the command opened.
Not for commands that serve, replace their process (`worker`), or install a Redis job broker (any
command sending jobs with CRM_GRAPH_REDIS_URL set): a broker is process-wide and stays; run those as
processes.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path


def run_main(args: list[str] | tuple[str, ...], env: Mapping[str, str] | None = None,
             cwd: str | Path | None = None) -> tuple[int, str, str]:
    """Run `crm-graph ARGS` in this process; return (exit code, stdout, stderr).

    `env` is the whole environment of the command (like `subprocess.run(env=...)`; default: this
    process's), `cwd` its working directory. An exception `main` lets through is printed on stderr
    as a traceback with exit code 1, as the interpreter would.
    """
    from crm_graph import cli
    from crm_graph.settings import get_settings

    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with _environment(dict(os.environ if env is None else env)), _working_directory(cwd), _arguments(args), \
            _restored_logging(), _own_engines(), _plain_consoles(), \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        get_settings.cache_clear()
        try:
            cli.main()
        except SystemExit as exc:
            code = _exit_code(exc.code, stderr)
        except Exception:  # noqa: BLE001 - what an uncaught exception does to a process
            traceback.print_exc(file=stderr)
            code = 1
        finally:
            get_settings.cache_clear()
    return code, stdout.getvalue(), stderr.getvalue()


def run_cli_in_process(args: list[str] | tuple[str, ...], env: Mapping[str, str] | None = None,
                       cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """`run_main` with the result a `subprocess.run(..., capture_output=True, text=True)` gives."""
    code, stdout, stderr = run_main(args, env, cwd)
    return subprocess.CompletedProcess(["crm-graph", *args], code, stdout, stderr)


def _exit_code(value, stderr: io.StringIO) -> int:
    """`sys.exit(value)` as a process's exit status: None is 0, a message is printed and is 1."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=stderr)
    return 1


@contextlib.contextmanager
def _environment(environment: dict[str, str]) -> Iterator[None]:
    """Make `environment` the whole of `os.environ`, then put the old one back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _arguments(args) -> Iterator[None]:
    """`sys.argv` of the command (click reads the arguments and the program's name from it)."""
    saved = sys.argv
    sys.argv = ["crm-graph", *args]
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _working_directory(cwd: str | Path | None) -> Iterator[None]:
    """Run in `cwd` (relative SQLite paths and files are the command's), then come back."""
    saved = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _restored_logging() -> Iterator[None]:
    """`main` applies the service's logging configuration to the process; undo it, so that pytest's
    own log capture (and later tests) find the root and the named loggers as they were."""
    from crm_graph.observability.logging_config import dict_config

    names = ["", *dict_config()["loggers"]]
    saved = {name: _logger_state(logging.getLogger(name)) for name in names}
    try:
        yield
    finally:
        for name, (handlers, level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled


def _logger_state(logger: logging.Logger) -> tuple[list[logging.Handler], int, bool, bool]:
    """What `logging.config.dictConfig` changes on a logger."""
    return list(logger.handlers), logger.level, logger.propagate, logger.disabled


@contextlib.contextmanager
def _own_engines() -> Iterator[None]:
    """Close the engines the command opened (a process would close them by ending); those that were
    open before are left alone."""
    from crm_graph import db

    before = set(db._engines)
    try:
        yield
    finally:
        with db._lock:
            opened = [url for url in db._engines if url not in before]
            engines = [db._engines.pop(url) for url in opened]
        for engine in engines:
            engine.dispose()


@contextlib.contextmanager
def _plain_consoles() -> Iterator[None]:
    """The CLI's rich consoles were made when it was imported: for the run, give them what they would
    have in a subprocess whose output is a pipe (no colours; the width of COLUMNS, else 80)."""
    from crm_graph import cli, cli_jobs

    consoles = {id(console): console for console in (cli.console, cli.err, cli_jobs.console)}.values()
    saved = [(console, console._width, console._color_system) for console in consoles]
    columns = os.environ.get("COLUMNS", "")
    for console in consoles:
        console._width = int(columns) if columns.isdigit() else 80
        console._color_system = None
    try:
        yield
    finally:
        for console, width, color_system in saved:
            console._width, console._color_system = width, color_system
