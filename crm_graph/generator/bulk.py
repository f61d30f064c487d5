"""PostgreSQL settings for a large load, as `pg_restore` does it.

Inside the load's transaction: foreign-key triggers are skipped when the role may do so (superuser;
the generator writes consistent rows by construction), and for a load that is large compared with
what the tables already hold, secondary indexes and unique constraints are dropped and rebuilt
once at the end, which is several times faster than maintaining them row by row. DDL is
transactional in PostgreSQL: if the load fails, the indexes come back with the rollback. While the
transaction runs, the tables are locked for other sessions.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

#: Tables that receive millions of rows.
BULK_TABLES = ("customer", "customer_identity", "orders", "order_line", "refund", "consent_event",
               "activity_event", "customer_tag")
#: From this many customers, and when the tables hold fewer rows than the load adds, rebuild indexes.
REBUILD_FROM = 50_000


def prepare(connection: Connection, customers: int) -> list[str]:
    """Set the transaction up for a fast load; return the statements that restore the indexes."""
    if connection.execute(text("SELECT current_setting('is_superuser')")).scalar_one() == "on":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    if customers < REBUILD_FROM or not _small(connection, customers):
        return []
    restore: list[str] = []
    for table in BULK_TABLES:
        constraints = connection.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'u' ORDER BY conname"
        ), {"table": table}).all()
        indexes = connection.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:table AS regclass) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname"
        ), {"table": table}).all()
        for name, definition in constraints:
            connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
            restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
            restore.append(definition)
    return restore


def restore(connection: Connection, statements: list[str], report: Callable[[str, int, int], None]) -> None:
    """Rebuild the dropped indexes and constraints, with enough memory to sort in one go."""
    if not statements:
        return
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    stage = "Rebuilding indexes"
    report(stage, 0, len(statements))
    for done, statement in enumerate(statements, 1):
        connection.execute(text(statement))
        report(stage, done, len(statements))


def _small(connection: Connection, customers: int) -> bool:
    """Whether the activity table holds fewer rows than this load adds (about 10 per customer)."""
    limit = 10 * customers
    existing = connection.execute(
        text("SELECT COUNT(*) FROM (SELECT 1 FROM activity_event LIMIT :limit) s"), {"limit": limit}
    ).scalar_one()
    return existing < limit
