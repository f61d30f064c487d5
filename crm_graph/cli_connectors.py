"""CLI commands of the connectors: `plugins`, `connectors add`, `sync` and `import-csv`.

Their dependencies (database layer, plugins, progress bars) are imported when a command runs, so that
the other commands do not load them (see `crm_graph.cli`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console


def _summary_table(counts: dict[str, int]):
    """One row of what an import or a sync did: created, updated, unchanged, deleted, rejected."""
    from rich.table import Table

    table = Table("created", "updated", "unchanged", "deleted", "rejected")
    table.add_row(*(f"{counts.get(key, 0):,}" for key in ("created", "updated", "unchanged", "deleted", "rejected")))
    return table


def _json_option(value: str, option: str, example: str, *, files: bool = False):
    """The JSON value of `option` (with `files`, ``@path`` reads it from a file), or a `UserError`
    saying what is wrong with it."""
    from crm_graph.errors import UserError

    source = option
    if files and value.startswith("@"):
        path = Path(value[1:])
        source = f"{option} file {str(path)!r}"
        try:
            value = path.read_text("utf-8")
        except FileNotFoundError:
            raise UserError(f"{option}: no file {str(path)!r}; give an existing JSON file after @, "
                            "or the JSON itself.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{option}: cannot read {str(path)!r} ({getattr(exc, 'strerror', None) or exc}).") from None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise UserError(f"{source} is not valid JSON ({exc}); write a JSON object, e.g. {example}.") from None


def register(app: typer.Typer, console: Console, migrated_engine) -> None:
    """Add the connector commands to the `crm-graph` app."""

    @app.command()
    def plugins() -> None:
        """List the installed plugins with their versions and hooks (CRM_GRAPH_PLUGINS restricts them)."""
        from rich.table import Table

        import crm_graph
        from crm_graph.plugins import list_plugins

        table = Table("name", "distribution", "version", "hooks")
        for info in list_plugins():
            dist, version = (info.distribution, info.version) if not info.default else ("crm-graph", crm_graph.__version__)
            table.add_row(info.name, dist or "", version or "", ", ".join(info.hooks))
        console.print(table)

    @app.command("connect")
    def connect(
        store: str = typer.Argument(..., help="Store slug."),
        connector: str = typer.Argument(..., help="Connector name (woocommerce, shopify...)."),
        settings: str = typer.Option(..., help="The settings as JSON, or @file.json."),
    ) -> None:
        """Register (or re-configure) a connector for a store."""
        from crm_graph.db import session_scope
        from crm_graph.services.connectors import public_settings, register_connector
        from crm_graph.services.stores import get_store

        values = _json_option(settings, "--settings", """'{"url": "https://shop.example"}'""", files=True)
        engine = migrated_engine()
        with session_scope(engine) as session:
            row = register_connector(session, get_store(session, store), connector, values)
            console.print(f"Connector {connector!r} registered for {store!r}: {public_settings(row)}")

    @app.command()
    def sync(
        store: str = typer.Argument(..., help="Store slug."),
        connector: str = typer.Argument(..., help="Connector name, as registered with `crm-graph connect`."),
    ) -> None:
        """Sync a store's connector now (incremental: from each stream's cursor)."""
        from crm_graph.cli_progress import CountColumn, progress_bar
        from crm_graph.db import session_scope
        from crm_graph.services.connectors import get_connector_config
        from crm_graph.services.stores import get_store
        from crm_graph.services.sync import sync_connector

        engine = migrated_engine()
        with session_scope(engine) as session:
            target = get_store(session, store)
            config = get_connector_config(session, target, connector)
        with progress_bar(console, count=CountColumn("items")) as progress:
            task = progress.add_task(f"sync {connector}", total=None)
            # a platform failure is a `PlatformFailure` (a UserError): `main()` prints it in one line
            summary = sync_connector(engine, target.id, config.id,
                                     progress=lambda done, total: progress.update(task, completed=done, total=total))
        console.print(_summary_table(summary.counts))
        for error in summary.errors[:20]:
            console.print(f"  rejected {error.record or ''}: {error.reason}", highlight=False)
        if summary.counts.get("rejected", 0) > 20:
            console.print(f"  … {summary.counts['rejected'] - 20:,} more")
        console.print("Cursors: " + ", ".join(f"{k}={v}" for k, v in summary.cursors.items()))

    @app.command("import-csv")
    def import_csv_command(
        store: str = typer.Argument(..., help="Store slug."),
        file: Path = typer.Argument(..., help="The CSV file (UTF-8, UTF-16 or UTF-32; `,` or `;`)."),
        kind: str = typer.Option(..., "--kind", help="customers, orders, consents, tags, activity or marketing_spend."),
        mapping: str = typer.Option(None, "--mapping", help="A named mapping (e.g. shopify-customers), `auto` to "
                                                              "pick one from the header, or a JSON object mapping "
                                                              "their header to our column."),
    ) -> None:
        """Import a CSV file; bad rows are reported with their line numbers, good rows import.

        Exit code 0 when every row imported, 1 when some were rejected, 2 when nothing could be imported
        or the file is unusable."""
        from rich.markup import escape
        from rich.progress import DownloadColumn

        from crm_graph.cli_progress import progress_bar
        from crm_graph.db import session_scope
        from crm_graph.services.csv_import import import_csv
        from crm_graph.services.stores import get_store

        columns = mapping
        if mapping and mapping.strip().startswith("{"):
            columns = _json_option(mapping, "--mapping", """'{"E-mail": "email"}'""")
        engine = migrated_engine()
        with session_scope(engine) as session:
            target = get_store(session, store)
        with progress_bar(console, count=DownloadColumn()) as progress:
            task = progress.add_task(f"import {kind}", total=file.stat().st_size if file.exists() else None)
            summary = import_csv(engine, target.id, file, kind, mapping=columns,
                                 progress=lambda done, total: progress.update(task, completed=done, total=total))
        if summary.mapping and mapping == "auto":
            console.print(f"Mapping: {summary.mapping} (picked from the header).", highlight=False)
        console.print(_summary_table(summary.counts))
        if summary.encoding != "UTF-8":
            console.print(f"Read as {summary.encoding} text.", highlight=False)
        for warning in summary.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        if summary.rejects_path:
            for error in summary.errors[:10]:
                console.print(f"  line {error.line}: {error.reason}", highlight=False)
            console.print(f"Rejected rows, with line numbers and reasons: {summary.rejects_path}")
        rejected = summary.counts.get("rejected", 0)
        if summary.outcome == "PARTIAL":
            console.print(f"{rejected:,} row(s) rejected, {summary.imported:,} imported (exit code 1).", highlight=False)
        elif summary.outcome == "NOTHING_IMPORTED":
            console.print(f"Nothing imported: all {rejected:,} row(s) rejected (exit code 2).", highlight=False)
        raise typer.Exit(summary.exit_code)
