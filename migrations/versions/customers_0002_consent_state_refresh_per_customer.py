"""customers: the consent state triggers look each touched customer's events up by customer (PostgreSQL)

Revision ID: customers_0002
Revises: analytics_0002

`customer.email_consent_state` / `sms_consent_state` are kept equal to the latest consent event's
state by statement-level triggers on `consent_event` (customers_0001). Their set-based UPDATEs joined
the statement's transition table to `consent_event` on (store, customer, channel): the planner knows
nothing of a transition table, and after a load of events of one channel (or with no statistics for
a new one) it took the (store, channel, time) index and filtered on the customer, reading every
event of the channel for each touched customer (quadratic: most of a CSV import of consents).

Now the function body is one UPDATE per statement for both channels: the latest state of each
touched channel is looked up per touched customer through the per-customer unique index, the other
channel keeps its value, no event leaves NULL, and only rows whose state changes are written (a
customer touched on both channels is written once). The same body serves the NEW and OLD transition
tables, so the separate "no event left" pass is gone too. SQLite's row-level triggers are unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "customers_0002"
down_revision: str | Sequence[str] | None = "analytics_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = {"EMAIL": "email_consent_state", "SMS": "sms_consent_state"}


def _refresh(side: str) -> str:
    """PL/pgSQL: set the consent columns of the customers named in the transition table `<side>_rows`.

    Each touched customer's latest state on a touched channel is one look-up through the unique
    (store, customer, channel, time, state) index (a correlated `LIMIT 1`), so a batch costs what its
    customers cost, whatever the size of the store. A join of the transition table to the whole
    `consent_event` table is what the planner chose otherwise: a transition table has no statistics,
    and inside the trigger it planned a 5,000-event batch into a store of 60,000 customers at 3.8 s
    (85 ms as a plain statement with statistics, 34 ms this way).
    """
    touched = ", ".join(f"bool_or(channel = '{channel}') AS touched_{channel.lower()}" for channel in _COLUMNS)
    values = ", ".join(
        f"CASE WHEN t.touched_{channel.lower()} THEN (SELECT e.state FROM consent_event e "
        f"WHERE e.store_id = t.store_id AND e.customer_id = t.customer_id AND e.channel = '{channel}' "
        f"ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) ELSE cu.{column} END AS {column}"
        for channel, column in _COLUMNS.items())
    assign = ", ".join(f"{column} = v.{column}" for column in _COLUMNS.values())
    differs = " OR ".join(f"c.{column} IS DISTINCT FROM v.{column}" for column in _COLUMNS.values())
    return (
        f"WITH t AS MATERIALIZED (SELECT store_id, customer_id, {touched} FROM {side}_rows "
        f"GROUP BY store_id, customer_id), "
        f"v AS MATERIALIZED (SELECT t.customer_id, {values} FROM t JOIN customer cu ON cu.id = t.customer_id) "
        f"UPDATE customer c SET {assign} FROM v WHERE c.id = v.customer_id AND ({differs});"
    )


def _old_refresh(side: str) -> str:
    """PL/pgSQL of customers_0001 (for the downgrade): two passes per channel."""
    statements = []
    for channel, column in _COLUMNS.items():
        touched = f"SELECT DISTINCT store_id, customer_id FROM {side}_rows WHERE channel = '{channel}'"
        statements.append(
            f"UPDATE customer c SET {column} = l.state FROM ("
            f"SELECT DISTINCT ON (e.customer_id) e.customer_id, e.state FROM consent_event e "
            f"JOIN ({touched}) t ON e.store_id = t.store_id AND e.customer_id = t.customer_id "
            f"WHERE e.channel = '{channel}' ORDER BY e.customer_id, e.occurred_at DESC, e.id DESC) l "
            f"WHERE c.id = l.customer_id AND c.{column} IS DISTINCT FROM l.state;"
        )
        statements.append(
            f"UPDATE customer c SET {column} = NULL FROM ({touched}) t "
            f"WHERE c.id = t.customer_id AND c.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM consent_event e "
            f"WHERE e.store_id = t.store_id AND e.customer_id = t.customer_id AND e.channel = '{channel}');"
        )
    return "\n".join(statements)


def _replace(body) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for side in ("new", "old"):
        # CREATE OR REPLACE keeps the triggers that call the functions
        op.execute(f"CREATE OR REPLACE FUNCTION crm_consent_current_from_{side}() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$\nBEGIN\n{body(side)}\nRETURN NULL;\nEND $$")


def upgrade() -> None:
    _replace(_refresh)


def downgrade() -> None:
    _replace(_old_refresh)
