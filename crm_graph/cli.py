"""The `crm-graph` command line: demo, serve, migrate, stores, keys, generate, schema, plugins, sync,
import-csv, and the background-work commands of `crm_graph.cli_jobs` (worker, scheduler, precompute, jobs).

Importing this module is cheap on purpose: the database layer, the models, the GraphQL schema and
the job machinery are imported inside the commands that use them, so `crm-graph --help`, a usage
error or a bad setting answer without loading them (each command pays only for what it needs).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from crm_graph.cli_jobs import register as register_job_commands
from crm_graph.errors import UserError
from crm_graph.settings import get_settings

app = typer.Typer(help="crm-graph: a GraphQL backend for e-commerce CRM dashboards.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
stores_app = typer.Typer(help="Create and list stores.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(stores_app, name="stores")
app.add_typer(keys_app, name="keys")

console = Console()
err = Console(stderr=True)

DEMO_STORE = "demo"


def _migrated_engine():
    """The configured database, reachable and at the newest schema."""
    from crm_graph.db import check_connection, get_engine
    from crm_graph.migrate import upgrade

    engine = get_engine()
    check_connection(engine)
    upgrade(engine)
    return engine


@app.command()
def migrate() -> None:
    """Bring the configured database (CRM_GRAPH_DATABASE_URL) to the newest schema."""
    from crm_graph.migrate import current_revision
    from crm_graph.preflight import describe_database

    engine = _migrated_engine()
    console.print(f"Database {describe_database(engine)} is at revision {current_revision(engine)}.",
                  highlight=False, soft_wrap=True)


@stores_app.command("create")
def stores_create(
    slug: str = typer.Argument(..., help="Short unique name, e.g. my-shop."),
    name: str = typer.Option(None, help="Display name (default: the slug)."),
    timezone: str = typer.Option("UTC", help="IANA timezone of the store's days, e.g. Europe/Warsaw."),
    currency: str = typer.Option("USD", help="ISO 4217 currency, e.g. EUR."),
) -> None:
    """Create a store."""
    from crm_graph.db import session_scope
    from crm_graph.services.stores import create_store

    engine = _migrated_engine()
    with session_scope(engine) as session:
        store = create_store(session, slug, name=name, timezone=timezone, currency=currency.upper())
        console.print(f"Created store {store.slug!r} (id {store.id}, {store.timezone}, {store.currency}).")


@stores_app.command("list")
def stores_list() -> None:
    """List the stores with their customer counts."""
    from rich.table import Table

    from crm_graph.db import session_scope
    from crm_graph.services.stores import customer_count, list_stores

    engine = _migrated_engine()
    table = Table("id", "slug", "name", "timezone", "currency", "customers")
    with session_scope(engine) as session:
        for store in list_stores(session):
            table.add_row(str(store.id), store.slug, store.name, store.timezone, store.currency,
                          str(customer_count(session, store)))
    console.print(table)


@keys_app.command("create")
def keys_create(
    store: str = typer.Argument(..., help="Store slug."),
    role: str = typer.Option("read", help="read, write or admin."),
    name: str = typer.Option("", help="What the key is for."),
) -> None:
    """Create an API key; it is printed once and only its hash is kept."""
    from crm_graph.db import session_scope
    from crm_graph.services.api_keys import create_api_key
    from crm_graph.services.stores import get_store

    engine = _migrated_engine()
    with session_scope(engine) as session:
        key, plain = create_api_key(session, get_store(session, store), role, name)
        console.print(f"API key {key.id} ({key.role.lower()}) for store {store!r}; it is shown only now:")
        print(plain)


@keys_app.command("list")
def keys_list(store: str = typer.Argument(..., help="Store slug.")) -> None:
    """List a store's API keys (prefixes only)."""
    from rich.table import Table

    from crm_graph.db import session_scope
    from crm_graph.services.api_keys import list_api_keys
    from crm_graph.services.stores import get_store

    engine = _migrated_engine()
    table = Table("id", "name", "role", "prefix", "created", "last used", "revoked")
    with session_scope(engine) as session:
        for key in list_api_keys(session, get_store(session, store)):
            table.add_row(str(key.id), key.name, key.role, key.prefix + "…", f"{key.created_at:%Y-%m-%d %H:%M}",
                          f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
                          f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(store: str = typer.Argument(..., help="Store slug."), key_id: int = typer.Argument(...)) -> None:
    """Revoke an API key."""
    from crm_graph.db import session_scope
    from crm_graph.services.api_keys import revoke_api_key
    from crm_graph.services.stores import get_store

    engine = _migrated_engine()
    with session_scope(engine) as session:
        revoke_api_key(session, get_store(session, store), key_id)
    console.print(f"Key {key_id} revoked.")


@app.command()
def generate(
    store: str = typer.Argument(..., help="Slug of an existing store to fill."),
    customers: int = typer.Option(10_000, help="How many customers to generate (1 to 1,000,000)."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same store."),
) -> None:
    """Fill a store with a realistic, deterministic generated data set."""
    from crm_graph.db import session_scope
    from crm_graph.generator import check_size
    from crm_graph.services.stores import get_store

    check_size(customers)  # before touching the database
    engine = _migrated_engine()
    with session_scope(engine) as session:
        target = get_store(session, store)
    _generate_with_progress(engine, target, customers, seed)


def _generate_with_progress(engine, store, customers: int, seed: int) -> None:
    from crm_graph.cli_progress import progress_bar
    from crm_graph.generator import generate_store

    with progress_bar(console) as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = generate_store(engine, store, customers=customers, seed=seed, progress=report)
    console.print(f"Generated {summary}.")


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to bind (default CRM_GRAPH_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default CRM_GRAPH_PORT or 8000)."),
    workers: int = typer.Option(1, help="API processes."),
) -> None:
    """Serve the GraphQL API (and GraphiQL outside production); without Redis it also runs the jobs."""
    import os

    import uvicorn

    if not get_settings().redis_url:
        # Embedded mode: this process (each API process) runs jobs and the schedule on its own threads.
        os.environ.setdefault("CRM_GRAPH_EMBEDDED_SCHEDULER", "true")
        get_settings.cache_clear()
    settings = get_settings()
    from crm_graph.preflight import describe_database, validate_app

    # Here, once: a setting every API process would refuse must not become a crash loop of workers.
    validate_app(settings)
    engine = _migrated_engine()
    host, port = host or settings.host, port or settings.port
    from crm_graph.observability.logging_config import announce

    def say(line: str) -> None:
        announce(console, "crm_graph.serve", line, settings.log_format)

    say(f"Database: {describe_database(engine)}")
    say(f"Dashboard on http://{host}:{port}/")
    say(f"GraphQL API on http://{host}:{port}/graphql")
    # Observability: one log format for uvicorn and the app; several processes share their metrics.
    from crm_graph.observability import logging_config, multiprocess

    metrics_dir = multiprocess.prepare(workers)
    try:
        if settings.metrics_port:
            from crm_graph.observability.metrics import serve_metrics

            serve_metrics(settings.metrics_host, settings.metrics_port, engine)
            say(f"Metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics")
        uvicorn.run("crm_graph.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level.lower(),
                    log_config=logging_config.dict_config(settings.log_format, settings.log_level))
    finally:
        multiprocess.cleanup(metrics_dir)


@app.command()
def demo(
    customers: int = typer.Option(10_000, help="Size of the generated demo store."),
    port: int = typer.Option(None, help="Port (default 8000)."),
) -> None:
    """Create a demo store with generated data and serve it with the dashboard and GraphiQL (embedded mode)."""
    import uvicorn

    from crm_graph.app import create_app
    from crm_graph.db import session_scope
    from crm_graph.generator import check_size
    from crm_graph.preflight import describe_database, require_broker, require_free_port
    from crm_graph.services.api_keys import create_api_key
    from crm_graph.services.stores import create_store, customer_count, get_store

    settings = get_settings()
    if settings.production:
        raise UserError("`crm-graph demo` is for development; unset CRM_GRAPH_PRODUCTION.")
    check_size(customers)
    port = port or settings.port
    # Before anything is written: a busy port must not leave a new store or key behind.
    require_free_port(settings.host, port)
    require_broker(settings)
    engine = _migrated_engine()
    console.print(f"Database: {describe_database(engine)}", highlight=False, soft_wrap=True)
    with session_scope(engine) as session:
        try:
            store = get_store(session, DEMO_STORE)
        except UserError:
            store = create_store(session, DEMO_STORE, name="Demo store", timezone="Europe/Warsaw", currency="PLN")
        existing = customer_count(session, store)
    if existing == 0:
        _generate_with_progress(engine, store, customers, seed=42)
    with session_scope(engine) as session:
        _, plain = create_api_key(session, store, "admin", "demo key")
        total = customer_count(session, store)
    base = f"http://{settings.host}:{port}"
    console.print(f"\nDemo store {DEMO_STORE!r}: {total:,} customers.")
    console.print(f"Dashboard: [bold]{base}/[/bold]", highlight=False)
    console.print(f"GraphiQL:  [bold]{base}/graphql[/bold] (development mode: requests from this machine "
                  "without a key act on the demo store)", highlight=False)
    console.print(f"API key (admin) for other clients: Authorization: Bearer {plain}")
    console.print('Try: { store { name customerCount } }\n')
    app_settings = settings.model_copy(update={"dev_store": DEMO_STORE, "embedded_scheduler": not settings.redis_url})
    uvicorn.run(create_app(app_settings), host=settings.host, port=port, log_level="warning")


@app.command()
def schema(
    output: Path = typer.Option(None, help="Write to this file instead of standard output."),
    changes_since: Path = typer.Option(
        None, help="Instead, list what changed for clients since this schema file (breaking changes first)."),
) -> None:
    """Print the GraphQL schema in SDL (the committed schema.graphql is this output)."""
    from crm_graph.graphql.schema import schema_sdl

    if changes_since:
        from crm_graph.graphql.schema_changes import change_report

        lines = change_report(changes_since.read_text(encoding="utf-8"))
        sys.stdout.write("\n".join(lines) + "\n" if lines else "No changes that affect clients.\n")
        return
    if output:
        output.write_text(schema_sdl(), encoding="utf-8")
        console.print(f"Wrote {output}.")
    else:
        sys.stdout.write(schema_sdl())


from crm_graph.cli_connectors import register as _register_connector_commands  # noqa: E402

_register_connector_commands(app, console, _migrated_engine)

register_job_commands(app)


def main() -> None:
    """Entry point: runs the command; every failure the user can act on is one line on stderr and
    exit code 2: user errors, bad settings, unreachable servers, bad options or arguments."""
    from pydantic import ValidationError

    click = _click_exceptions()
    code = None
    try:
        from crm_graph.observability.logging_config import configure

        configure(get_settings().log_format, get_settings().log_level)  # alembic and apscheduler quiet
        # Not standalone: click's usage errors come here, to be one line like the others.
        code = app(standalone_mode=False)
    except UserError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        problem = exc.errors()[0]
        _fail(f"setting CRM_GRAPH_{str(problem['loc'][0]).upper()}: {problem['msg']}.")
    except _database_errors() as exc:
        _fail(_database_failure(exc))
    except click.NoArgsIsHelpError as exc:  # `crm-graph stores`: its help (already shown), exit code 2
        if exc.format_message().strip():
            err.print(exc.format_message(), highlight=False, markup=False)
        sys.exit(2)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "crm-graph"
        _fail(f"{exc.format_message().rstrip('.')}. See `{command} --help`.")
    except click.ClickException as exc:
        _fail(exc.format_message())
    except typer.Abort:  # end of input at a prompt
        err.print("Aborted.")
        sys.exit(1)
    except ModuleNotFoundError as exc:  # an optional dependency a setting asks for
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        hint = f"pip install 'crm-graph[{extra}]'" if extra else f"install {exc.name!r} into this environment"
        _fail(f"the Python package {exc.name!r} is needed here but not installed; {hint}.")
    if isinstance(code, int) and code:
        sys.exit(code)


def _database_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's `DBAPIError` when a command has loaded SQLAlchemy, else nothing to catch: an
    exception from SQLAlchemy cannot happen without it, and importing it only to catch nothing would
    cost every command that does not touch the database half a second."""
    exc = sys.modules.get("sqlalchemy.exc")
    return (exc.DBAPIError,) if exc is not None else ()


def _database_failure(exc) -> str:
    """The one line for a database error: unreachable or broken (`OperationalError`), or a value the
    database refused (too long, out of range)."""
    from sqlalchemy.exc import OperationalError

    first_line = str(exc.orig or exc).strip().splitlines()[0]
    if isinstance(exc, OperationalError):
        return f"database error: {first_line}"
    return f"the database refused a value: {first_line[:300]}"


def _click_exceptions():
    """The module of the click exceptions typer raises (typer 0.2x bundles its own click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # a typer that uses the click package
        from click import exceptions
    return exceptions


#: Optional dependencies and the extra of crm-graph that installs each.
_EXTRAS = {"prometheus_client": "metrics"}


def _fail(message: str) -> None:
    from rich.markup import escape

    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
