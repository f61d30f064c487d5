"""Import a CSV file of one kind (customers, orders, consents, tags, activity, marketing_spend) into a store.

The file is streamed: the kind's reader yields records and row errors, which are written in batches,
each batch in its own transaction, so memory stays flat whatever the file's size. Bad rows are
reported with their line numbers (in the summary and in a ``.rejects.csv`` file next to the input)
while the good rows import. Importing the same file twice changes nothing the second time. The
summary also lists the file's columns the kind does not read (ignored, never silently) and warnings,
and tells the outcome: every row imported, some rejected, or nothing imported.

On PostgreSQL, orders files take the bulk path (`crm_graph.services.csv_bulk`): the file is COPYed
into a staging table and imported by set-based SQL in one transaction, with the same outcome, four
times faster; there the rows of one order may be anywhere in the file.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.connectors.csv import CsvContext
from crm_graph.connectors.csv_text import ignored_columns, normal_name, open_text
from crm_graph.connectors.records import RecordError
from crm_graph.errors import NotFound, UserError
from crm_graph.models import Store
from crm_graph.services.ingest import COUNT_KEYS, AnalyzePolicy, ingest_records

MAX_KEPT_ERRORS = 1000
BATCH_SIZE = 5000

Progress = Callable[[int, int | None], None]


@dataclass
class ImportSummary:
    """What an import did: counts by outcome, the first rejected rows, and the file listing them all."""

    kind: str
    path: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    errors: list[RecordError] = field(default_factory=list)
    rejects_path: str | None = None
    rows: int = 0
    #: The registered mapping the file was read with (named, or picked from the header by ``auto``).
    mapping: str | None = None
    #: The file's encoding as recognised (UTF-8, UTF-16 LE...).
    encoding: str = "UTF-8"
    #: Columns of the file the kind does not read (after the mapping), as the file names them.
    ignored_columns: list[str] = field(default_factory=list)
    #: What the import could not do as the file meant it, in sentences (e.g. orders without line items).
    warnings: list[str] = field(default_factory=list)
    #: IMPORTED (every row), PARTIAL (some rows rejected) or NOTHING_IMPORTED (every row rejected).
    outcome: str = "IMPORTED"

    @property
    def imported(self) -> int:
        """Records written or found unchanged."""
        return sum(self.counts.get(key, 0) for key in ("created", "updated", "unchanged", "deleted"))

    def job_result(self) -> dict:
        """What a CSV_IMPORT job keeps: the counts with `imported` and `ignored_columns` added, the
        rejected rows, and the rest (outcome, warnings, the rejects report's path) as its result."""
        counts = {**self.counts, "imported": self.imported, "ignored_columns": len(self.ignored_columns)}
        return {"counts": counts, "errors": self.errors, "kind": self.kind, "path": self.path,
                "rejects_path": self.rejects_path, "rows": self.rows, "encoding": self.encoding,
                "ignored_columns": self.ignored_columns, "warnings": self.warnings, "outcome": self.outcome,
                "mapping": self.mapping}

    @property
    def exit_code(self) -> int:
        """0 when every row imported, 1 when some were rejected, 2 when nothing could be imported."""
        return {"IMPORTED": 0, "PARTIAL": 1}.get(self.outcome, 2)


class _Counting:
    """A binary file wrapper that knows how many bytes were read (for progress)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.position += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        data = self.raw.read1(size) if hasattr(self.raw, "read1") else self.raw.read(size)
        self.position += len(data)
        return data

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        self.position += count or 0
        return count

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        # A text reader asks for this at every line: answered here, not by the slower `__getattr__`.
        return self.raw.closed

    def __getattr__(self, name):
        return getattr(self.raw, name)


#: `mapping=AUTO` picks the registered mapping from the file's header.
AUTO = "auto"
#: The share of a mapping's distinctive columns a header needs to be taken for that export.
MATCH_THRESHOLD = 0.6


def resolve_mapping(kind: str, mapping: str | Mapping[str, str] | None) -> Mapping[str, str]:
    """A header mapping: a registered mapping (by name; it may also transform values), an explicit dict,
    or none. ``auto`` is accepted here and decided from the file's header by `import_csv`."""
    if mapping is None or mapping == AUTO:
        return {}
    if isinstance(mapping, str):
        from crm_graph.plugins import csv_mappings

        known = csv_mappings()
        if mapping not in known:
            raise UserError(f"mapping: no CSV mapping named {mapping!r} (known: {AUTO}, "
                            f"{', '.join(sorted(known)) or 'none'}).")
        if known[mapping].kind != kind:
            raise UserError(f"mapping: {mapping!r} is for {known[mapping].kind} files, not {kind}.")
        return known[mapping]
    return dict(mapping)


def read_header(path: Path) -> list[str]:
    """The column names of the file's first line (any encoding the reader recognises; `,` or `;`), to
    pick a mapping by; [] when the header cannot be read (the kind's reader reports why)."""
    with open(path, "rb") as raw:
        try:
            return open_text(raw).header
        except (UserError, csv.Error):
            return []


def match_mapping(header: list[str], kind: str | None = None):
    """The registered mapping whose distinctive columns `header` has most of (of `kind` when given),
    with its score; (None, 0.0) when none scores at least `MATCH_THRESHOLD`."""
    from crm_graph.plugins import csv_mappings

    # Equal scores go to the longer signature: an unsubscribed-members file has all the columns of a
    # subscribed one and more.
    scored = sorted(((m.score(header), m.name, m) for m in csv_mappings().values() if kind in (None, m.kind)),
                    key=lambda item: (-item[0], -len(item[2].signature), item[1]))
    if scored and scored[0][0] >= MATCH_THRESHOLD:
        return scored[0][2], scored[0][0]
    return None, 0.0


def choose_mapping(path: Path, kind: str, mapping: str | Mapping[str, str] | None):
    """The mapping to read `path` with: `auto` is picked from the header; a file that is a known foreign
    export imported without a mapping is refused with the name of the mapping to use (its columns
    would otherwise be dropped silently)."""
    if mapping == AUTO:
        header = read_header(path)
        chosen, _ = match_mapping(header, kind)
        if chosen is None:
            other, _ = match_mapping(header)
            hint = f"; it looks like a {other.kind} file ({other.name})" if other else ""
            raise UserError(f"mapping: the header matches no known {kind} export{hint}. Known {kind} mappings: "
                            + ", ".join(sorted(m.name for m in _mappings_of(kind))) + ".")
        return chosen
    if mapping is None:
        found, _ = match_mapping(read_header(path))
        if found is not None:
            kind_hint = "" if found.kind == kind else f" --kind {found.kind}"
            raise UserError(f"mapping: the header is that of {found.description.rstrip('.')}; nothing was "
                            f"imported. Import it with --mapping {found.name}{kind_hint} (or --mapping {AUTO}).")
    return resolve_mapping(kind, mapping)


def _mappings_of(kind: str) -> list:
    from crm_graph.plugins import csv_mappings

    return [m for m in csv_mappings().values() if m.kind == kind]


def _inspect(path: Path, kind, mapping: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """(encoding, ignored columns, warnings) from the file's header; `UserError` for an unusable file."""
    with open(path, "rb") as raw:
        opened = open_text(raw)
    wanted = {column.name for column in kind.columns}
    ignored = ignored_columns(opened.header, dict(mapping), wanted)
    warnings = []
    if ignored:
        warnings.append(f"ignored columns: {', '.join(ignored)} (not columns of {kind.name} files, not imported; "
                        "pass a mapping to import them).")
    if kind.name == "orders":
        renames = {normal_name(foreign): ours for foreign, ours in mapping.items()}
        names = {renames.get(normal_name(cell), normal_name(cell)) for cell in opened.header}
        if not names & set(_LINE_COLUMNS):
            if "quantity" in names:
                warnings.append("the file has no line item columns (" + ", ".join(_LINE_COLUMNS) + "); each "
                                "order's quantity was stored as one line of the order's subtotal (else total), "
                                "without a product.")
            else:
                warnings.append("the file has no line item columns (" + ", ".join(_LINE_COLUMNS) + ") and no "
                                "quantity: no order lines were stored, so product figures stay empty.")
    return opened.encoding, ignored, warnings


#: The columns of an orders file that describe a line item.
_LINE_COLUMNS = ("product_id", "product_name", "sku", "unit_price", "line_total")


def import_csv(engine: Engine, store_id: int, path: str | Path, kind: str, *, progress: Progress | None = None,
               mapping: str | Mapping[str, str] | None = None, batch_size: int = BATCH_SIZE,
               rejects_path: str | Path | None = None, bulk: bool | None = None) -> ImportSummary:
    """Stream `path` of CSV `kind` into the store; returns counts and the rejected rows.

    `bulk` chooses the path: None (the default) takes the bulk path wherever it is possible
    (`csv_bulk.bulk_possible`), False always the record-by-record one; True insists on bulk.
    """
    from crm_graph.services.csv_bulk import bulk_possible, import_bulk

    from crm_graph.plugins import csv_kinds, get_plugin_manager

    hook = get_plugin_manager().hook
    kinds = csv_kinds()
    if kind not in kinds:
        raise UserError(f"kind: {kind!r} is not a CSV kind (known: {', '.join(sorted(kinds)) or 'none'}).")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"file: {path.name!r} does not exist or is not a file.")  # a name: it may reach Job.error
    with Session(engine, expire_on_commit=False) as session:
        store = session.get(Store, store_id)
        if store is None:
            raise NotFound(f"No store with id {store_id}.")
    columns = choose_mapping(path, kind, mapping)
    context = CsvContext(timezone=store.timezone, currency=store.currency)
    summary = ImportSummary(kind=kind, path=str(path), mapping=getattr(columns, "name", None))
    summary.encoding, summary.ignored_columns, summary.warnings = _inspect(path, kinds[kind], columns)
    counts: Counter = Counter()
    rejects_path = Path(rejects_path) if rejects_path else path.with_name(path.name + ".rejects.csv")
    rejects_file = None
    rejects_writer = None
    total = os.path.getsize(path)

    def reject(error: RecordError) -> None:
        nonlocal rejects_file, rejects_writer
        if rejects_writer is None:
            rejects_file = open(rejects_path, "w", newline="", encoding="utf-8")
            rejects_writer = csv.writer(rejects_file)
            rejects_writer.writerow(["line", "record", "reason"])
            for warning in summary.warnings:  # notes on the whole file, before the rows: no line
                rejects_writer.writerow(["", "(note)", warning])
        rejects_writer.writerow([error.line if error.line is not None else "", error.record or "", error.reason])
        if len(summary.errors) < MAX_KEPT_ERRORS:
            summary.errors.append(error)

    possible = bulk_possible(engine, kinds[kind]) and not _names_by_crm_id(path, kinds[kind], columns)
    if bulk and not possible:
        raise UserError(f"bulk: {kind} files cannot be imported in bulk into this database.")
    if possible and bulk is not False:
        try:
            with open(path, "rb") as raw:
                counting = _Counting(raw)
                tick = (lambda: progress(counting.position, total)) if progress else None
                bulk_counts, _ = import_bulk(engine, store, kinds[kind], counting, columns, context, reject, tick)
        finally:
            if rejects_file is not None:
                rejects_file.close()
        counts.update(bulk_counts)
        summary.rows = bulk_counts["created"] + bulk_counts["updated"] + bulk_counts["unchanged"]
        hook.records_ingested(store_id=store_id, source=context.source,
                              counts={key: value for key, value in bulk_counts.items() if key != "rejected"})
        if progress:
            progress(total, total)
        return _finish(summary, counts, rejects_writer is not None, rejects_path, store_id, kind)

    policy = AnalyzePolicy()

    def flush(batch: list, counting: _Counting) -> None:
        with Session(engine, expire_on_commit=False) as session:
            result = ingest_records(session, store, batch, source=context.source, analyze=policy.due(len(batch)))
            session.commit()
        counts.update(result.counts)
        for error in result.errors:
            reject(error)
        hook.records_ingested(store_id=store_id, source=context.source, counts=dict(result.counts))
        if progress:
            progress(counting.position, total)

    try:
        with open(path, "rb") as raw:
            counting = _Counting(raw)
            batch: list = []
            for item in kinds[kind].read(counting, columns, context):
                if isinstance(item, RecordError):
                    counts["rejected"] += 1
                    reject(item)
                    continue
                batch.append(item)
                summary.rows += 1
                if len(batch) >= batch_size:
                    flush(batch, counting)
                    batch = []
            if batch:
                flush(batch, counting)
            if progress:
                progress(total, total)
    finally:
        if rejects_file is not None:
            rejects_file.close()
    return _finish(summary, counts, rejects_writer is not None, rejects_path, store_id, kind)


def _names_by_crm_id(path: Path, kind, columns: Mapping[str, str]) -> bool:
    """Whether the file's header has a `crm_id` column: customers named by another source's id are
    resolved by the record-by-record import only."""
    present: set[str] = set()
    with open(path, "rb") as raw:
        next(kind.rows(raw, columns, present), None)  # reads the header, which fills `present`
    return "crm_id" in present


def _finish(summary: ImportSummary, counts: Counter, rejected: bool, rejects_path: Path, store_id: int,
            kind: str) -> ImportSummary:
    """Fill in the summary, drop a stale rejects report, tell the plugins."""
    from crm_graph.plugins import get_plugin_manager

    summary.counts.update(counts)
    if summary.counts.get("rejected", 0):
        summary.outcome = "PARTIAL" if summary.imported else "NOTHING_IMPORTED"
    if rejected:
        summary.rejects_path = str(rejects_path)
    elif rejects_path.exists():
        rejects_path.unlink()  # a stale report of an earlier import of this file
    get_plugin_manager().hook.csv_imported(store_id=store_id, kind=kind, summary=summary)
    return summary
