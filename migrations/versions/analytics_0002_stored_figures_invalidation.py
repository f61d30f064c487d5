"""analytics: stored figures are invalidated in the transaction of every change they depend on

Revision ID: analytics_0002
Revises: connectors_0002

Creates `analytics_invalidation` and the triggers that fill it (see docs/analytics.md). Each write to
a table the stored daily figures and RFM grids read records "the store's stored figures are stale
from local day D on", D being the first day whose figures the write can change: a figure "as of
the end of local day D" reads every record up to the end of D, so a change at instant t affects
every day from the local day of t on.

PostgreSQL: statement-level triggers with transition tables (a bulk insert or COPY costs one insert
here per statement), with the exact local day (the store's timezone); marked ENABLE ALWAYS, so that
they fire under `session_replication_role = replica` too (the bulk CSV import sets it). Customer
updates use a row-level trigger whose WHEN clause lets the frequent updates of derived columns
(orders_count, total_spent, last_activity_at...) through without running anything. SQLite: row-level
triggers; without timezone support the day is the UTC date minus one (a local day is within a day of
the UTC date), or the UTC date for UTC stores.

A trigger adds no entry when one that covers the day exists already: on PostgreSQL only entries of
the same transaction count (an entry committed earlier may be claimed by a recompute that cannot see
this transaction's data); on SQLite, with one writer at a time, any entry not yet claimed.

Stored rows computed before this revision may be stale already: every store that has some is
invalidated from its oldest stored day, so the workers recompute them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0002"
down_revision: str | Sequence[str] | None = "connectors_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "analytics_invalidation"

#: The columns of each table whose change can change a stored figure (an UPDATE touching only other
#: columns, such as an erasure blanking an order's contact copies, invalidates nothing).
_WATCHED = {
    "orders": ("customer_id", "placed_at", "status", "total"),
    "refund": ("order_id", "amount", "refunded_at"),
    "consent_event": ("customer_id", "channel", "state", "occurred_at"),
    "activity_event": ("customer_id", "occurred_at"),
    "customer_tag": ("customer_id", "tag_id", "applied_at", "removed_at"),
    # who is counted (created_at, erased_at), and by gender; whether identified: see `_watched`
    "customer": ("created_at", "erased_at", "gender"),
}

#: Whether a customer row is identified (an email, a phone or a store account), as the figures count it.
_IDENTIFIED = "(({r}.email IS NOT NULL AND {r}.email <> '') OR ({r}.phone IS NOT NULL AND {r}.phone <> '') " \
              "OR {r}.has_account)"


def _changed(table: str, old: str, new: str, differs: str) -> str:
    """SQL: whether an UPDATE changed what the stored figures read of the row. For a customer, a new
    email or phone only matters when it makes the customer identified or not (a profile edit from one
    address to another changes no figure, and would otherwise invalidate the person's whole history)."""
    tests = [f"{old}.{c} {differs} {new}.{c}" for c in _WATCHED[table]]
    if table == "customer":
        tests.append(f"{_IDENTIFIED.format(r=old)} {differs} {_IDENTIFIED.format(r=new)}")
    return " OR ".join(tests)


def _earliest(table: str, event: str, old: str, new: str, least, differs: str) -> str:
    """SQL for the earliest instant a row change affects, given the row aliases `old` and `new`, a
    NULL-ignoring `least(*values)` and the dialect's null-safe inequality `differs`.

    INSERT and DELETE read one side; UPDATE both. A customer appears in stored figures from its
    creation, and in the RFM grid from its first counted order (`first_order_at`, which may precede
    `created_at` in imported data); a refund changes figures from its own instant and its order's.
    A tag change that only sets or clears `removed_at` affects figures from that instant only.
    """
    sides = (new,) if event == "insert" else (old,) if event == "delete" else (old, new)
    order_of = "(SELECT placed_at FROM orders WHERE id = {}.order_id)"
    if table == "customer_tag" and event == "update":
        moved = " OR ".join(f"{old}.{c} {differs} {new}.{c}" for c in ("applied_at", "tag_id", "customer_id"))
        return (f"CASE WHEN {moved} THEN {least(f'{old}.applied_at', f'{new}.applied_at')} "
                f"ELSE {least(f'{old}.removed_at', f'{new}.removed_at')} END")
    columns = {
        "orders": ["placed_at"], "refund": ["refunded_at"], "consent_event": ["occurred_at"],
        "activity_event": ["occurred_at"], "customer_tag": ["applied_at"], "customer": ["created_at", "first_order_at"],
    }[table]
    instants = [f"{side}.{column}" for column in columns for side in sides]
    if table == "refund":
        instants += [order_of.format(side) for side in sides]
    return least(*instants)


def _sqlite_least(*values: str) -> str:
    """SQLite's LEAST that ignores NULLs (its min() of several values is NULL when one is)."""
    if len(values) == 1:
        return values[0]
    return "(SELECT min(v) FROM (" + " UNION ALL ".join(f"SELECT {value} AS v" for value in values) + "))"


def _pg_least(*values: str) -> str:
    return values[0] if len(values) == 1 else f"LEAST({', '.join(values)})"


def _sqlite_trigger(table: str, event: str) -> str:
    row = "OLD" if event == "delete" else "NEW"
    at = _earliest(table, event, "OLD", "NEW", _sqlite_least, "IS NOT")
    when = ""
    if event == "update":
        when = f"WHEN {_changed(table, 'OLD', 'NEW', 'IS NOT')} "
    return (
        f"CREATE TRIGGER analytics_stale_{table}_{event} AFTER {event.upper()} ON {table} {when}BEGIN "
        f"INSERT INTO {TABLE} (store_id, from_day) SELECT d.store_id, d.from_day FROM ("
        f"SELECT a.store_id, CASE WHEN a.timezone IN ('UTC', 'Etc/UTC') THEN date(a.at) ELSE date(a.at, '-1 day') END "
        f"AS from_day FROM (SELECT st.id AS store_id, st.timezone, {at} AS at FROM store st "
        f"WHERE st.id = {row}.store_id) a) d "
        f"WHERE d.from_day IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} i "
        f"WHERE i.store_id = d.store_id AND i.claimed_by IS NULL AND i.from_day <= d.from_day); END"
    )


def _pg_record(rows: str) -> str:
    """PL/pgSQL: record, per store of `rows` (store_id, at), the local day of its earliest instant,
    unless an entry of this transaction covers that day already."""
    return (
        f"INSERT INTO {TABLE} (store_id, from_day, tx) "
        f"SELECT a.store_id, a.from_day, txid_current() FROM ("
        f"SELECT s.id AS store_id, (min(x.at) AT TIME ZONE s.timezone)::date AS from_day "
        f"FROM ({rows}) x JOIN store s ON s.id = x.store_id GROUP BY s.id, s.timezone) a "
        f"WHERE a.from_day IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} i WHERE i.store_id = a.store_id "
        f"AND i.tx = txid_current() AND i.from_day <= a.from_day);"
    )


def _pg_rows(table: str, event: str) -> str:
    """SQL: (store_id, at) of the rows of a statement's transition tables."""
    if event != "update":
        side = "new_rows" if event == "insert" else "old_rows"
        return f"SELECT r.store_id, {_earliest(table, event, 'r', 'r', _pg_least, '')} AS at FROM {side} r"
    at = _earliest(table, event, "o", "n", _pg_least, "IS DISTINCT FROM")
    changed = _changed(table, "o", "n", "IS DISTINCT FROM")
    return f"SELECT n.store_id, {at} AS at FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}"


def _pg_install() -> None:
    for table in _WATCHED:
        for event in ("insert", "update", "delete"):
            name = f"analytics_stale_{table}_{event}"
            if table == "customer" and event == "update":
                rows = (f"SELECT NEW.store_id AS store_id, "
                        f"{_earliest(table, event, 'OLD', 'NEW', _pg_least, 'IS DISTINCT FROM')} AS at")
                level = f"FOR EACH ROW WHEN ({_changed(table, 'OLD', 'NEW', 'IS DISTINCT FROM')})"
            else:
                rows = _pg_rows(table, event)
                tables = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
                          "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[event]
                level = f"REFERENCING {tables} FOR EACH STATEMENT"
            op.execute(f"CREATE FUNCTION crm_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{_pg_record(rows)}\nRETURN NULL;\nEND $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {level} EXECUTE FUNCTION crm_{name}()")
            op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")
    # a store's days are local days: a new timezone makes every stored day stale
    op.execute(
        "CREATE FUNCTION crm_analytics_stale_store_update() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\nINSERT INTO {TABLE} (store_id, from_day, tx) VALUES (NEW.id, DATE '1970-01-01', txid_current());\n"
        "RETURN NULL;\nEND $$"
    )
    op.execute("CREATE TRIGGER analytics_stale_store_update AFTER UPDATE ON store FOR EACH ROW "
               "WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) EXECUTE FUNCTION crm_analytics_stale_store_update()")
    op.execute("ALTER TABLE store ENABLE ALWAYS TRIGGER analytics_stale_store_update")


def _sqlite_install() -> None:
    for table in _WATCHED:
        for event in ("insert", "update", "delete"):
            op.execute(_sqlite_trigger(table, event))
    op.execute(f"CREATE TRIGGER analytics_stale_store_update AFTER UPDATE ON store "
               f"WHEN OLD.timezone IS NOT NEW.timezone "
               f"BEGIN INSERT INTO {TABLE} (store_id, from_day) VALUES (NEW.id, '1970-01-01'); END")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_day", sa.Date(), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.Column("claimed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_analytics_invalidation_store_id_store"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_invalidation")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_analytics_invalidation_store_day", ["store_id", "from_day"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        _pg_install()
    else:
        _sqlite_install()
    op.execute(
        f"INSERT INTO {TABLE} (store_id, from_day) SELECT store_id, min(day) FROM ("
        "SELECT store_id, day FROM daily_customer_count UNION ALL SELECT store_id, day FROM daily_rfm_cell) d "
        "GROUP BY store_id"
    )


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    events = ("insert", "update", "delete")
    triggers = [(f"analytics_stale_{table}_{event}", table) for table in _WATCHED for event in events]
    for name, table in [*triggers, ("analytics_stale_store_update", "store")]:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS crm_{name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_invalidation_store_day")
    op.drop_table(TABLE)
