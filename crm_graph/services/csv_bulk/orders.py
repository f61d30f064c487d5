"""Orders from a staged CSV file, validated, matched and upserted in set-based SQL (PostgreSQL).

The same outcome as reading the file into `OrderRecord`s and writing them with
`crm_graph.services.ingest.orders.upsert_orders` in one batch, statement by statement:

1. `csv_line`: every row with its position in its order (rows of an order may be anywhere in the
   file) and its line item parsed; `csv_head`: the order's fields from its first row, with the first
   bad cell in the order the record import checks them.
2. `csv_order`: the orders without a bad row. Buyers: erasure tombstones first (an erased person is
   never matched or created, and their order keeps no contact copy), then the identity of the source
   (the customer id, else ``guest:<email or phone>``), then the oldest live customer with the email,
   then the phone; the rest become new customers with the details of their first order.
3. Products named by lines and not known yet are created; existing orders are compared field by
   field, their lines as an ordered list and their refunds by id; new orders are inserted, changed
   ones updated, lines and refunds replaced where they differ. A second import changes nothing.

`rejects(...)` lists the bad rows in line order with what `CsvKind.cell_error` needs to word them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlmodel import Session

from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.services.csv_bulk import cells
from crm_graph.services.csv_bulk.staging import STAGE

log = logging.getLogger(__name__)

_COUNTED = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)

#: The order fields in the order the record import parses them: the first bad one is reported.
_HEAD_CHECKS = (
    ("email", "email <> '' AND email_v IS NULL"),
    ("phone", "phone <> '' AND phone_norm IS NULL"),
    ("status", "status_v IS NULL"),
    ("placed_at", "placed_at_v IS NULL"),
    ("updated_at", "updated_at <> '' AND updated_at_v IS NULL"),
    ("total", "total = '' OR total_v IS NULL"),
    ("subtotal", "subtotal_v IS NULL"),
    ("discount", "discount_v IS NULL"),
    ("shipping", "shipping_v IS NULL"),
    ("tax", "tax_v IS NULL"),
    ("refund_amount", "refund_amount <> '' AND refund_v IS NULL"),
    ("refunded_at", "refund_amount <> '' AND refunded_at_v IS NULL"),
)

#: What an order row is compared on (billing: the CSV gives none; the record import stores JSON null or NULL).
_ORDER_FIELDS = ("customer_id", "status", "raw_status", "placed_at", "updated_at", "currency", "total", "subtotal",
                 "discount", "shipping", "tax", "channel", "email", "phone")


@dataclass
class BulkOutcome:
    """Orders created / updated / unchanged, and the customers whose figures must be recomputed (the
    customers this import created have theirs already)."""

    created: int
    updated: int
    unchanged: int
    touched_customers: list[int]


@dataclass(frozen=True)
class _Params:
    store_id: int
    source: str
    timezone: str
    currency: str
    statuses: Mapping[str, str]


def _lines(p: _Params) -> str:
    return f"""
    CREATE TEMP TABLE csv_line ON COMMIT DROP AS
    SELECT line, order_id, position, has_line, product, name, sku, quantity, unit_price,
           COALESCE(NULLIF(line_id, ''), position::text) AS line_ext,
           (CASE WHEN raw_total <> '' THEN {cells.amount('raw_total')} ELSE unit_price * quantity END)::numeric(18,2)
               AS line_total,
           CASE WHEN NOT has_line THEN NULL WHEN quantity IS NULL THEN 'quantity'
                WHEN unit_price IS NULL THEN 'unit_price'
                WHEN raw_total <> '' AND {cells.amount('raw_total')} IS NULL THEN 'line_total' END AS err,
           CASE WHEN quantity IS NULL THEN raw_quantity WHEN unit_price IS NULL THEN raw_unit_price
                ELSE raw_total END AS err_value
    FROM (
        SELECT line, order_id, row_number() OVER (PARTITION BY order_id ORDER BY line) AS position,
               (product_id <> '' OR product_name <> '' OR sku <> '' OR unit_price <> '' OR line_total <> '')
                   AS has_line,
               line_id, NULLIF(product_id, '') AS product, {cells.text('product_name', 500)} AS name,
               {cells.text('sku', 200)} AS sku, {cells.integer('quantity', 1)} AS quantity,
               {cells.amount('unit_price')} AS unit_price, line_total AS raw_total, quantity AS raw_quantity,
               unit_price AS raw_unit_price
        FROM {STAGE} WHERE bad IS NULL AND order_id <> ''
    ) s
    """


def _head(p: _Params) -> str:
    checks = " ".join(f"WHEN {condition} THEN '{column}'" for column, condition in _HEAD_CHECKS)
    tz = p.timezone
    return f"""
    CREATE TEMP TABLE csv_head ON COMMIT DROP AS
    SELECT h.*, CASE {checks} END AS err
    FROM (
        SELECT s.line AS first_line, s.order_id, s.email, s.phone, s.phone_norm, s.status, s.placed_at, s.updated_at,
               s.total, s.subtotal, s.discount, s.shipping, s.tax, s.refund_amount, s.refunded_at,
               {cells.external_id('s.customer_id')} AS ext_v, {cells.email('s.email')} AS email_v,
               {cells.choice('s.status', p.statuses)} AS status_v, left(s.status, 64) AS raw_status_v,
               {cells.instant('s.placed_at', tz)} AS placed_at_v, {cells.instant('s.updated_at', tz)} AS updated_at_v,
               left(upper(COALESCE(NULLIF(s.currency, ''), {cells.literal(p.currency)})), 3) AS currency_v,
               {cells.amount('s.total')} AS total_v, {cells.amount('s.subtotal')} AS subtotal_v,
               {cells.amount('s.discount')} AS discount_v, {cells.amount('s.shipping')} AS shipping_v,
               {cells.amount('s.tax')} AS tax_v,
               CASE WHEN s.refund_amount <> '' THEN {cells.amount('s.refund_amount')} END AS refund_v,
               {cells.instant('s.refunded_at', tz)} AS refunded_at_v,
               {cells.text('s.channel', 200)} AS channel_v, {cells.text('s.first_name', 200)} AS first_name_v,
               {cells.text('s.last_name', 200)} AS last_name_v, {cells.country('s.country')} AS country_v,
               {cells.text('s.city', 200)} AS city_v
        FROM {STAGE} s JOIN csv_line l ON l.line = s.line AND l.position = 1
    ) h
    """


_ORDERS = """
    CREATE TEMP TABLE csv_order ON COMMIT DROP AS
    SELECT h.order_id AS external_id, h.first_line, h.ext_v AS ext, h.email_v AS email, h.phone_norm AS phone,
           h.status_v AS status, h.raw_status_v AS raw_status, h.placed_at_v AS placed_at,
           h.updated_at_v AS updated_at, h.currency_v AS currency, h.total_v AS total, h.subtotal_v AS subtotal,
           h.discount_v AS discount, h.shipping_v AS shipping, h.tax_v AS tax, h.channel_v AS channel,
           h.first_name_v AS first_name, h.last_name_v AS last_name, h.country_v AS country, h.city_v AS city,
           h.refund_v AS refund_amount, h.refunded_at_v AS refunded_at,
           COALESCE(h.ext_v, 'guest:' || h.email_v, 'guest:' || h.phone_norm) AS key,
           false AS erased, NULL::bigint AS customer_id, NULL::bigint AS id, NULL::bigint AS old_customer_id,
           false AS is_new, false AS changed, false AS lines_stale, false AS refunds_stale
    FROM csv_head h
    WHERE h.err IS NULL AND NOT EXISTS (SELECT 1 FROM csv_line l WHERE l.order_id = h.order_id AND l.err IS NOT NULL)
"""


def _hash(prefix: str, column: str) -> str:
    return f"CASE WHEN {column} IS NOT NULL THEN encode(sha256(convert_to({prefix} || ':' || {column}, 'UTF8')), 'hex') END"


def _erased(p: _Params) -> str:
    hashes = ", ".join((_hash(cells.literal(p.source), "o.ext"), _hash("'email'", "o.email"), _hash("'phone'", "o.phone")))
    return f"""
    UPDATE csv_order o SET erased = true, key = NULL, email = NULL, phone = NULL
    WHERE EXISTS (SELECT 1 FROM erased_identity e WHERE e.store_id = {p.store_id} AND e.identity_hash IN ({hashes}))
    """


def _customers(p: _Params) -> list[str]:
    s, src = p.store_id, cells.literal(p.source)
    by_contact = """
    UPDATE csv_key k SET customer_id = m.id, linked = true FROM (
        SELECT c.{column} AS value, min(c.id) AS id FROM customer c
        WHERE c.store_id = {s} AND c.erased_at IS NULL
          AND c.{column} IN (SELECT {column} FROM csv_key WHERE customer_id IS NULL AND {column} IS NOT NULL)
        GROUP BY c.{column}
    ) m WHERE k.customer_id IS NULL AND k.{column} = m.value
    """
    return [
        """
        CREATE TEMP TABLE csv_key ON COMMIT DROP AS
        SELECT DISTINCT ON (key) key, first_line, email, phone, first_name, last_name, country, city, placed_at,
               ext IS NOT NULL AS has_account, NULL::bigint AS customer_id, false AS linked, false AS is_new
        FROM csv_order WHERE key IS NOT NULL ORDER BY key, first_line
        """,
        f"""
        UPDATE csv_key k SET customer_id = i.customer_id FROM customer_identity i
        WHERE i.store_id = {s} AND i.source = {src} AND i.external_id = k.key
        """,
        by_contact.format(column="email", s=s),
        by_contact.format(column="phone", s=s),
        f"""
        UPDATE csv_key k SET customer_id = n.id, is_new = true FROM (
            SELECT key, nextval('customer_id_seq') AS id
            FROM (SELECT key FROM csv_key WHERE customer_id IS NULL ORDER BY first_line) q
        ) n WHERE k.key = n.key
        """,
        "UPDATE csv_order o SET customer_id = k.customer_id FROM csv_key k WHERE o.key = k.key",
        _NEW_CUSTOMERS.format(s=s),
        f"""
        INSERT INTO customer_identity (store_id, customer_id, source, external_id, created_at)
        SELECT {s}, customer_id, {src}, key, now() FROM csv_key WHERE linked OR is_new ORDER BY first_line
        """,
    ]


#: New customers are written with the figures `refresh_customer_stats` and `refresh_activity` would give
#: them (all their orders are in this file): lifetime figures of the counted orders, last activity at
#: the latest order, first seen at the first order, the channel of the first order that has one. That
#: spares updating every new customer row (and its many indexes) several times over.
_NEW_CUSTOMERS = f"""
    WITH f AS MATERIALIZED (
        SELECT customer_id, min(placed_at) AS first_placed, max(placed_at) AS last_placed,
               (array_agg(channel ORDER BY placed_at, first_line) FILTER (WHERE channel IS NOT NULL))[1] AS channel,
               count(*) FILTER (WHERE status IN ({_COUNTED})) AS orders_count,
               sum(total - COALESCE(refund_amount, 0)) FILTER (WHERE status IN ({_COUNTED})) AS total_spent,
               min(placed_at) FILTER (WHERE status IN ({_COUNTED})) AS first_order_at,
               max(placed_at) FILTER (WHERE status IN ({_COUNTED})) AS last_order_at
        FROM csv_order WHERE customer_id IS NOT NULL GROUP BY customer_id
    ), k AS MATERIALIZED (SELECT * FROM csv_key WHERE is_new)
    INSERT INTO customer (id, store_id, email, phone, first_name, last_name, gender, country, city, has_account,
                          acquisition_channel, created_at, updated_at, last_activity_at, orders_count, total_spent,
                          first_order_at, last_order_at)
    SELECT k.customer_id, {{s}}, k.email, k.phone, k.first_name, k.last_name, 'UNKNOWN', k.country, k.city,
           k.has_account, f.channel, LEAST(k.placed_at, f.first_placed), now(), f.last_placed,
           COALESCE(f.orders_count, 0), COALESCE(f.total_spent, 0), f.first_order_at, f.last_order_at
    FROM k LEFT JOIN f ON f.customer_id = k.customer_id
    ORDER BY k.customer_id
"""


def _compare(p: _Params) -> list[str]:
    s, src = p.store_id, cells.literal(p.source)
    theirs = ", ".join(f"x.{name}" for name in _ORDER_FIELDS)
    ours = ", ".join("CASE WHEN o.erased THEN x.customer_id ELSE o.customer_id END" if name == "customer_id"
                     else f"o.{name}" for name in _ORDER_FIELDS)
    return [
        f"""
        UPDATE csv_order o SET id = x.id, old_customer_id = x.customer_id,
               customer_id = CASE WHEN o.erased THEN x.customer_id ELSE o.customer_id END,
               changed = ROW({theirs}, x.billing IS NULL OR x.billing = 'null'::jsonb) IS DISTINCT FROM ROW({ours}, true)
        FROM orders x WHERE x.store_id = {s} AND x.source = {src} AND x.external_id = o.external_id
        """,
        """
        UPDATE csv_order o SET id = n.id, is_new = true FROM (
            SELECT external_id, nextval('orders_id_seq') AS id
            FROM (SELECT external_id FROM csv_order WHERE id IS NULL ORDER BY first_line) q
        ) n WHERE o.external_id = n.external_id
        """,
        f"""
        INSERT INTO product (store_id, source, external_id, name, sku, category, created_at, updated_at)
        SELECT {s}, {src}, l.product, left(COALESCE(l.name, l.product), 500), l.sku, NULL, now(), now()
        FROM (SELECT l.product, min(l.line) AS line FROM csv_line l JOIN csv_order o ON o.external_id = l.order_id
              WHERE l.has_line AND l.product IS NOT NULL GROUP BY l.product) f
        JOIN csv_line l ON l.line = f.line
        WHERE NOT EXISTS (
            SELECT 1 FROM product p WHERE p.store_id = {s} AND p.source = {src} AND p.external_id = f.product)
        ORDER BY f.line
        ON CONFLICT DO NOTHING
        """,
        f"""
        CREATE TEMP TABLE csv_new_line ON COMMIT DROP AS
        SELECT o.id AS order_id, l.line, l.line_ext AS external_id, p.id AS product_id, l.name, l.sku, l.quantity,
               l.unit_price, l.line_total, o.is_new
        FROM csv_line l JOIN csv_order o ON o.external_id = l.order_id
        LEFT JOIN product p ON p.store_id = {s} AND p.source = {src} AND p.external_id = l.product
        WHERE l.has_line
        """,
    ]


def _stale(p: _Params) -> list[str]:
    """Mark the existing orders whose lines, or refunds, differ from the file's (every step materialised,
    so that a plan made on a guess about the temporary tables cannot repeat an aggregate per order)."""
    s = p.store_id
    line_sig = ("concat_ws(',', quote_nullable(external_id), quote_nullable(product_id), quote_nullable(name), "
                "quote_nullable(sku), quantity, unit_price, line_total)")
    refund_sig = "concat_ws(',', quote_nullable({id}), {amount}, extract(epoch FROM {at}), quote_nullable({reason}))"
    stored_refund = refund_sig.format(id="external_id", amount="amount", at="refunded_at", reason="reason")
    file_refund = refund_sig.format(id="'csv'", amount="o.refund_amount", at="o.refunded_at", reason="NULL::text")
    return [
        f"""
        WITH ex AS MATERIALIZED (SELECT id FROM csv_order WHERE NOT is_new),
        old AS MATERIALIZED (
            SELECT order_id, string_agg({line_sig}, '|' ORDER BY id) AS sig FROM order_line
            WHERE store_id = {s} AND order_id IN (SELECT id FROM ex) GROUP BY order_id),
        new AS MATERIALIZED (
            SELECT order_id, string_agg({line_sig}, '|' ORDER BY line) AS sig FROM csv_new_line
            WHERE NOT is_new GROUP BY order_id),
        d AS MATERIALIZED (
            SELECT ex.id FROM ex LEFT JOIN old ON old.order_id = ex.id LEFT JOIN new ON new.order_id = ex.id
            WHERE old.sig IS DISTINCT FROM new.sig)
        UPDATE csv_order o SET lines_stale = true FROM d WHERE o.id = d.id
        """,
        f"""
        WITH ex AS MATERIALIZED (SELECT id, refund_amount, refunded_at FROM csv_order o WHERE NOT is_new),
        old AS MATERIALIZED (
            SELECT order_id, string_agg({stored_refund}, '|' ORDER BY external_id) AS sig FROM refund
            WHERE store_id = {s} AND order_id IN (SELECT id FROM ex) GROUP BY order_id),
        d AS MATERIALIZED (
            SELECT o.id FROM ex o LEFT JOIN old ON old.order_id = o.id
            WHERE old.sig IS DISTINCT FROM CASE WHEN o.refund_amount IS NOT NULL THEN {file_refund} END)
        UPDATE csv_order o SET refunds_stale = true FROM d WHERE o.id = d.id
        """,
    ]


def _apply(p: _Params) -> list[str]:
    s, src = p.store_id, cells.literal(p.source)
    names = ", ".join(_ORDER_FIELDS)
    values = ", ".join(f"o.{name}" for name in _ORDER_FIELDS)
    sets = ", ".join(f"{name} = o.{name}" for name in _ORDER_FIELDS)
    return [
        f"""
        INSERT INTO orders (id, store_id, source, external_id, {names}, billing, created_at)
        SELECT o.id, {s}, {src}, o.external_id, {values}, NULL, now() FROM csv_order o WHERE o.is_new ORDER BY o.id
        """,
        f"UPDATE orders x SET {sets}, billing = NULL FROM csv_order o WHERE x.id = o.id AND NOT o.is_new AND o.changed",
        f"""
        DELETE FROM order_line WHERE store_id = {s}
          AND order_id IN (SELECT id FROM csv_order WHERE NOT is_new AND lines_stale)
        """,
        f"""
        DELETE FROM refund WHERE store_id = {s}
          AND order_id IN (SELECT id FROM csv_order WHERE NOT is_new AND refunds_stale)
        """,
        f"""
        INSERT INTO order_line (store_id, order_id, external_id, product_id, name, sku, quantity, unit_price, line_total)
        SELECT {s}, n.order_id, n.external_id, n.product_id, n.name, n.sku, n.quantity, n.unit_price, n.line_total
        FROM csv_new_line n JOIN csv_order o ON o.id = n.order_id
        WHERE o.is_new OR o.lines_stale ORDER BY n.order_id, n.line
        """,
        f"""
        INSERT INTO refund (store_id, order_id, external_id, amount, refunded_at, reason)
        SELECT {s}, o.id, 'csv', o.refund_amount, o.refunded_at, NULL FROM csv_order o
        WHERE o.refund_amount IS NOT NULL AND (o.is_new OR o.refunds_stale) ORDER BY o.id
        """,
    ]


def upsert_staged_orders(session: Session, store_id: int, source: str, timezone: str, currency: str,
                         statuses: Mapping[str, str]) -> BulkOutcome:
    """Validate, match and upsert the orders staged in the session's transaction (no commit)."""
    p = _Params(store_id, source, timezone, currency, statuses)
    driver = session.connection().connection.driver_connection
    run = driver.execute
    run("SET LOCAL work_mem = '256MB'")
    # The parsing expressions are long: JIT-compiling them costs seconds and saves less than that.
    run("SET LOCAL jit = off")
    keyed = _skip_key_triggers(run, store_id)
    for statement in (_lines(p), "CREATE INDEX ON csv_line (order_id) WHERE err IS NOT NULL", _head(p),
                      "ANALYZE csv_line", _ORDERS, "ANALYZE csv_order"):
        _timed(run, statement)
    if run(f"SELECT EXISTS (SELECT 1 FROM erased_identity WHERE store_id = {store_id})").fetchone()[0]:
        _timed(run, _erased(p))
    steps = _customers(p)
    for statement in (*steps[:1], "ANALYZE csv_key", *steps[1:-3], "ANALYZE csv_key", *steps[-3:], *_compare(p)):
        _timed(run, statement)
    run("ANALYZE csv_order")
    if run("SELECT EXISTS (SELECT 1 FROM csv_order WHERE NOT is_new)").fetchone()[0]:
        for statement in _stale(p):
            _timed(run, statement)
    if keyed:
        _timed(run, _KEY_SHARE)
    for statement in _apply(p):
        _timed(run, statement)
    created, updated, unchanged = run("""
        SELECT count(*) FILTER (WHERE is_new),
               count(*) FILTER (WHERE NOT is_new AND (changed OR lines_stale OR refunds_stale)),
               count(*) FILTER (WHERE NOT is_new AND NOT (changed OR lines_stale OR refunds_stale))
        FROM csv_order""").fetchone()
    touched = [row[0] for row in run("""
        SELECT customer_id FROM csv_order WHERE customer_id IS NOT NULL AND (is_new OR changed OR lines_stale
                                                                          OR refunds_stale)
        UNION
        SELECT old_customer_id FROM csv_order WHERE old_customer_id IS NOT NULL AND NOT is_new
          AND (changed OR lines_stale OR refunds_stale)
        EXCEPT
        SELECT customer_id FROM csv_key WHERE is_new""")]
    return BulkOutcome(created, updated, unchanged, touched)


#: What the foreign-key triggers would lock row by row, locked in one go: the existing customers,
#: products and orders the written rows point to, so that nobody deletes them before the commit.
_KEY_SHARE = """
    SELECT (SELECT count(*) FROM (SELECT 1 FROM customer WHERE id IN (SELECT customer_id FROM csv_order)
                                  FOR KEY SHARE) c)
         + (SELECT count(*) FROM (SELECT 1 FROM product WHERE id IN (SELECT product_id FROM csv_new_line)
                                  FOR KEY SHARE) p)
         + (SELECT count(*) FROM (SELECT 1 FROM orders WHERE id IN (SELECT id FROM csv_order WHERE NOT is_new)
                                  FOR KEY SHARE) o)
"""


def _skip_key_triggers(run, store_id: int) -> bool:
    """Skip the row-by-row foreign-key triggers for this transaction when the role may (superuser), as
    `pg_restore` and the data generator do: every id written here was just looked up or drawn, and
    `_KEY_SHARE` takes the locks the triggers would have taken. They cost more than half of a large
    import otherwise. No table this import writes has triggers of its own (those would be skipped too)."""
    if run("SELECT current_setting('is_superuser')").fetchone()[0] != "on":
        return False
    run("SET LOCAL session_replication_role = replica")
    run(f"SELECT 1 FROM store WHERE id = {int(store_id)} FOR KEY SHARE")
    return True


def _timed(run, statement: str) -> None:
    """Run a statement, logging how long it took (at DEBUG: which step of a slow import is slow)."""
    started = time.perf_counter()
    run(statement)
    log.debug("%.2f s: %s", time.perf_counter() - started, " ".join(statement.split())[:100])


def rejects(session: Session) -> Iterator[tuple[int, str | None, str | None, str | None, str | None]]:
    """The bad rows in line order: ``(line, order_id, reason, column, value)``; when `reason` is None the
    cell `value` of `column` is bad and the kind words why."""
    values = " ".join(f"WHEN '{column}' THEN {column}" for column, _ in _HEAD_CHECKS)
    driver = session.connection().connection.driver_connection
    with driver.cursor(name="csv_rejects") as cursor:
        cursor.execute(f"""
            SELECT line, NULL, bad, NULL, NULL FROM {STAGE} WHERE bad IS NOT NULL
            UNION ALL
            SELECT line, NULL, 'order_id is required', NULL, NULL FROM {STAGE} WHERE bad IS NULL AND order_id = ''
            UNION ALL
            SELECT first_line, order_id, NULL, err, CASE err {values} END FROM csv_head WHERE err IS NOT NULL
            UNION ALL
            SELECT l.line, l.order_id,
                   CASE WHEN l.err IS NULL THEN
                       'order ' || l.order_id || ' is rejected: its row at line ' || b.first_bad || ' is bad' END,
                   l.err, l.err_value
            FROM csv_line l
            JOIN (SELECT order_id, min(line) AS first_bad FROM csv_line WHERE err IS NOT NULL GROUP BY order_id) b
              ON b.order_id = l.order_id
            WHERE NOT EXISTS (SELECT 1 FROM csv_head h WHERE h.order_id = l.order_id AND h.err IS NOT NULL)
            ORDER BY 1""")
        yield from cursor
