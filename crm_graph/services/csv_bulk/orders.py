"""Orders from a staged CSV file, validated, matched and upserted in set-based SQL (PostgreSQL).

The same outcome as reading the file into `OrderRecord`s and writing them with
`crm_graph.services.ingest.orders.upsert_orders` in one batch, statement by statement:

1. `csv_head`: each order's first row (rows of an order may be anywhere in the file: the staging
   numbers runs, and scattered orders are renumbered here) with the order's cells parsed and the
   first bad one, in the order the record import checks them; `csv_item`: the line items parsed;
   `csv_bad`: the orders with a bad item. Each cell is parsed once, and the usual ones not at all
   here: COPY read them into typed columns.
2. `csv_order`: the orders without a bad row. Buyers (`csv_key`): erasure tombstones first (an
   erased person is never matched or created, and their order keeps no contact copy), then the
   identity of the source (the customer id, else ``guest:<email or phone>``), then the oldest live
   customer with the email, then the phone; the rest become new customers with the details of their
   first order.
3. Products named by lines and not known yet are created; stored orders are compared field by
   field, their lines position by position and their refunds by id (`csv_touched`); new orders are
   inserted, changed ones updated, lines and refunds replaced where they differ. A second import
   changes nothing.

`rejects(...)` lists the bad rows in line order with what `CsvKind.cell_error` needs to word them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlmodel import Session

from crm_graph.connectors import normalise
from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.services.analytics.sql import TUNING_STATEMENTS
from crm_graph.services.csv_bulk import cells
from crm_graph.services.csv_bulk.staging import STAGE, Layout, Typed

log = logging.getLogger(__name__)

_COUNTED = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)

#: The order fields in the order the record import parses them: the first bad one is reported.
_HEAD_CHECKS = (
    ("country", "country <> '' AND country_v IS NULL"),
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
    new_customers: int = 0


@dataclass(frozen=True)
class _Params:
    store_id: int
    source: str
    timezone: str
    currency: str
    statuses: Mapping[str, str]


#: The order's cells: only an order's first row is read for them.
_HEAD_RAW = ("customer_id", "email", "phone", "status", "placed_at", "updated_at", "currency", "total", "subtotal",
             "discount", "shipping", "tax", "channel", "first_name", "last_name", "country", "city", "refund_amount",
             "refunded_at")
_AMOUNTS = ("unit_price", "line_total", "total", "subtotal", "discount", "shipping", "tax", "refund_amount")
_INSTANTS = ("placed_at", "updated_at", "refunded_at")

#: How an orders file is staged: rows grouped by order, the usual amounts, instants and quantities
#: read by COPY itself.
LAYOUT = Layout(
    typed=(Typed("quantity", "int", cells.PLAIN_INTEGER),
           *(Typed(name, "numeric(18,2)", cells.PLAIN_AMOUNT) for name in _AMOUNTS),
           *(Typed(name, "timestamp", cells.COMMON_INSTANT) for name in _INSTANTS)),
    group="order_id", group_fields=frozenset(_HEAD_RAW), keys=frozenset({"order_id", "product_id"}),
)


#: Whether some order's rows are spread over several runs: then `csv_head` has a row for each run.
_SCATTERED = "SELECT EXISTS (SELECT 1 FROM csv_head GROUP BY order_id HAVING count(*) > 1)"

#: The rows of an order that are spread over several runs get their true positions (the staging
#: numbered each run on its own), so that `run_pos` is each row's position in its order and 1 marks
#: exactly one row of each order: its first.
_POSITIONS = f"""
    WITH scattered AS MATERIALIZED (
        SELECT order_id FROM {STAGE} WHERE run_pos = 1 AND bad IS NULL AND order_id <> ''
        GROUP BY order_id HAVING count(*) > 1),
    ranked AS MATERIALIZED (
        SELECT line, row_number() OVER (PARTITION BY order_id ORDER BY line) AS position FROM {STAGE}
        WHERE bad IS NULL AND order_id IN (SELECT order_id FROM scattered))
    UPDATE {STAGE} s SET run_pos = r.position FROM ranked r WHERE s.line = r.line AND s.run_pos <> r.position
"""


def _line_items() -> str:
    """The good rows of the stage that carry a line item, the item's cells parsed once (`OFFSET 0`
    keeps the planner from copying a parsing expression into each place that uses its value);
    `line_err` names the first bad cell, `line_err_value` holds it."""
    return f"""
    SELECT line, order_id, line_ext, product, name, sku, quantity,
           CASE WHEN goods IS NOT NULL AND quantity IS NOT NULL THEN
                (CASE WHEN quantity > 0 THEN round(goods / quantity, 2) ELSE goods END)::numeric(18,2)
                ELSE unit_price END AS unit_price,
           (CASE WHEN goods IS NOT NULL THEN goods WHEN raw_total <> '' THEN total_v
                 ELSE unit_price * quantity END)::numeric(18,2) AS line_total,
           CASE WHEN quantity IS NULL THEN 'quantity' WHEN unit_price IS NULL THEN 'unit_price'
                WHEN raw_total <> '' AND total_v IS NULL THEN 'line_total' END AS line_err,
           CASE WHEN quantity IS NULL THEN raw_quantity WHEN unit_price IS NULL THEN raw_unit_price
                ELSE raw_total END AS line_err_value
    FROM (
        SELECT line, order_id, COALESCE(NULLIF(line_id, ''), run_pos::text) AS line_ext,
               NULLIF(product_id, '') AS product, {cells.text('product_name', 500)} AS name,
               {cells.text('sku', 200)} AS sku, {cells.integer('quantity', 1, 'quantity_t')} AS quantity,
               {cells.amount('unit_price', 'unit_price_t')} AS unit_price, line_total AS raw_total,
               CASE WHEN line_total <> '' THEN {cells.amount('line_total', 'line_total_t')} END AS total_v,
               quantity AS raw_quantity, unit_price AS raw_unit_price,
               CASE WHEN run_pos = 1 AND product_id = '' AND product_name = '' AND sku = '' AND unit_price = ''
                         AND line_total = '' THEN
                    COALESCE(CASE WHEN subtotal <> '' THEN {cells.amount('subtotal', 'subtotal_t')}
                                  ELSE {cells.amount('total', 'total_t')} END, 0) END AS goods
        FROM {STAGE}
        WHERE bad IS NULL AND order_id <> ''
          AND (product_id <> '' OR product_name <> '' OR sku <> '' OR unit_price <> '' OR line_total <> ''
               OR quantity <> '')
        OFFSET 0
    ) l
    """


#: `csv_item`: the rows that carry a line item, parsed; `csv_bad`: the orders with a bad line item,
#: and the first such line.
_ITEMS = f"CREATE TEMP TABLE csv_item ON COMMIT DROP AS {_line_items()}"
_BAD = """
    CREATE TEMP TABLE csv_bad ON COMMIT DROP AS
    SELECT order_id, min(line) AS first_bad FROM csv_item WHERE line_err IS NOT NULL GROUP BY order_id
"""


def _heads(p: _Params, countries: bool) -> str:
    """`csv_head`: the first row of each order with the order's cells parsed, and the first bad one
    with its cell, checked in the order the record import checks them. `countries`: whether the file
    has country cells, read through `csv_country`."""
    tz = p.timezone
    parsed = {
        "ext_v": cells.external_id("customer_id"), "email_v": cells.email("email"),
        "status_v": cells.choice("status", p.statuses), "raw_status_v": "left(status, 64)",
        "placed_at_v": cells.instant("placed_at", tz, "placed_at_t"),
        "updated_at_v": cells.instant("updated_at", tz, "updated_at_t"),
        "currency_v": f"left(upper(COALESCE(NULLIF(currency, ''), {cells.literal(p.currency)})), 3)",
        "total_v": cells.amount("total", "total_t"), "subtotal_v": cells.amount("subtotal", "subtotal_t"),
        "discount_v": cells.amount("discount", "discount_t"), "shipping_v": cells.amount("shipping", "shipping_t"),
        "tax_v": cells.amount("tax", "tax_t"),
        "refund_v": f"CASE WHEN refund_amount <> '' THEN {cells.amount('refund_amount', 'refund_amount_t')} END",
        "refunded_at_v": cells.instant("refunded_at", tz, "refunded_at_t"), "channel_v": cells.text("channel", 200),
        "first_name_v": cells.text("first_name", 200), "last_name_v": cells.text("last_name", 200),
        "country_v": "CASE WHEN country = '' THEN NULL ELSE cc.code END" if countries else "NULL::text",
        "city_v": cells.text("city", 200),
    }
    checks = " ".join(f"WHEN {condition} THEN '{column}'" for column, condition in _HEAD_CHECKS)
    check_values = " ".join(f"WHEN {condition} THEN {column}" for column, condition in _HEAD_CHECKS)
    return f"""
    CREATE TEMP TABLE csv_head ON COMMIT DROP AS
    SELECT line, order_id, phone_norm, {", ".join(parsed)}, CASE {checks} END AS head_err,
           CASE {check_values} END AS head_err_value
    FROM (
        SELECT line, order_id, {", ".join(_HEAD_RAW)}, phone_norm,
               {", ".join(f"{expression} AS {name}" for name, expression in parsed.items())}
        FROM {STAGE}{" LEFT JOIN csv_country cc ON cc.raw = country" if countries else ""}
        WHERE run_pos = 1 AND bad IS NULL AND order_id <> ''
        OFFSET 0
    ) h
    """


def _countries(run, driver) -> bool:
    """`csv_country`: each distinct country cell of the file with its ISO code (NULL when it names no
    country), looked up once per value, not per row (`normalise.iso_country`, pycountry's data);
    whether the file has any country cell."""
    values = [row[0] for row in run(f"SELECT DISTINCT country FROM {STAGE} WHERE country <> ''").fetchall()]
    if not values:
        return False
    run('CREATE TEMP TABLE csv_country (raw text PRIMARY KEY, code text) ON COMMIT DROP')
    pairs = []
    for value in values:
        try:
            pairs.append((value, normalise.iso_country(value)))
        except ValueError:
            pairs.append((value, None))
    with driver.cursor() as cursor:
        cursor.executemany("INSERT INTO csv_country (raw, code) VALUES (%s, %s)", pairs)
    return True


def _hash(prefix: str, column: str) -> str:
    return f"CASE WHEN {column} IS NOT NULL THEN encode(sha256(convert_to({prefix} || ':' || {column}, 'UTF8')), 'hex') END"


def _orders(p: _Params, erasures: bool) -> str:
    """`csv_order`: the orders without a bad row with the key of their buyer (none for an erased
    person, whose order keeps no contact copy either), the stored order of the same id if there is
    one, and otherwise a new id (drawn in file order)."""
    if erasures:
        hashes = ", ".join((_hash(cells.literal(p.source), "r.ext_v"), _hash("'email'", "r.email_v"),
                            _hash("'phone'", "r.phone_norm")))
        erased = (f"EXISTS (SELECT 1 FROM erased_identity e WHERE e.store_id = {p.store_id} "
                  f"AND e.identity_hash IN ({hashes}))")
    else:
        erased = "false"
    return f"""
    CREATE TEMP TABLE csv_order ON COMMIT DROP AS
    SELECT j.*, COALESCE(j.old_id, nextval('orders_id_seq')) AS id
    FROM (
        SELECT q.*, x.id AS old_id, x.customer_id AS old_customer_id
        FROM (
            SELECT order_id AS external_id, line AS first_line, ext_v AS ext, erased,
                   CASE WHEN NOT erased THEN email_v END AS email, CASE WHEN NOT erased THEN phone_norm END AS phone,
                   CASE WHEN NOT erased THEN COALESCE(ext_v, 'guest:' || email_v, 'guest:' || phone_norm) END AS key,
                   status_v AS status, raw_status_v AS raw_status, placed_at_v AS placed_at,
                   updated_at_v AS updated_at, currency_v AS currency, total_v AS total, subtotal_v AS subtotal,
                   discount_v AS discount, shipping_v AS shipping, tax_v AS tax, channel_v AS channel,
                   first_name_v AS first_name, last_name_v AS last_name, country_v AS country, city_v AS city,
                   refund_v AS refund_amount, refunded_at_v AS refunded_at
            FROM (SELECT r.*, {erased} AS erased FROM csv_head r
                  WHERE r.head_err IS NULL AND r.order_id NOT IN (SELECT order_id FROM csv_bad) OFFSET 0) r
        ) q
        LEFT JOIN orders x ON x.store_id = {p.store_id} AND x.source = {cells.literal(p.source)}
                          AND x.external_id = q.external_id
        ORDER BY q.first_line
    ) j
    """


def _customers(p: _Params) -> list[str]:
    """`csv_key`: one row per buyer key, matched to a customer (identity of the source, else the oldest
    live customer with the email, then the phone) or given a new id; the new customers and the
    identities the matches made are written."""
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
        "ANALYZE csv_key (key, email, phone)",
        f"""
        UPDATE csv_key k SET customer_id = i.customer_id FROM customer_identity i
        WHERE i.store_id = {s} AND i.source = {src} AND i.external_id = k.key
        """,
        by_contact.format(column="email", s=s),
        by_contact.format(column="phone", s=s),
        """
        UPDATE csv_key k SET customer_id = n.id, is_new = true FROM (
            SELECT key, nextval('customer_id_seq') AS id
            FROM (SELECT key FROM csv_key WHERE customer_id IS NULL ORDER BY first_line) q
        ) n WHERE k.key = n.key
        """,
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
    WITH k AS MATERIALIZED (SELECT * FROM csv_key WHERE is_new),
    o AS MATERIALIZED (SELECT key, first_line, placed_at, status, total, refund_amount, channel FROM csv_order
                       WHERE key IN (SELECT key FROM k)),
    f AS MATERIALIZED (
        SELECT key, min(placed_at) AS first_placed, max(placed_at) AS last_placed,
               count(*) FILTER (WHERE status IN ({_COUNTED})) AS orders_count,
               sum(total - COALESCE(refund_amount, 0)) FILTER (WHERE status IN ({_COUNTED})) AS total_spent,
               min(placed_at) FILTER (WHERE status IN ({_COUNTED})) AS first_order_at,
               max(placed_at) FILTER (WHERE status IN ({_COUNTED})) AS last_order_at
        FROM o GROUP BY key
    ),
    c AS MATERIALIZED (
        SELECT DISTINCT ON (key) key, channel FROM o WHERE channel IS NOT NULL ORDER BY key, placed_at, first_line
    )
    INSERT INTO customer (id, store_id, email, phone, first_name, last_name, gender, country, city, has_account,
                          acquisition_channel, created_at, updated_at, last_activity_at, orders_count, total_spent,
                          first_order_at, last_order_at)
    SELECT k.customer_id, {{s}}, k.email, k.phone, k.first_name, k.last_name, 'UNKNOWN', k.country, k.city,
           k.has_account, c.channel, LEAST(k.placed_at, f.first_placed), now(), f.last_placed,
           COALESCE(f.orders_count, 0), COALESCE(f.total_spent, 0), f.first_order_at, f.last_order_at
    FROM k LEFT JOIN f ON f.key = k.key LEFT JOIN c ON c.key = k.key
    ORDER BY k.customer_id
"""

#: An order's buyer: the matched customer of its key; an erased person's stored order keeps its customer.
_BUYER = "CASE WHEN o.erased THEN o.old_customer_id ELSE k.customer_id END"


def _products(p: _Params) -> list[str]:
    """`csv_product`: the products the lines of good orders name, each with its first line; the ones
    the store does not know yet are created, named by that line."""
    s, src = p.store_id, cells.literal(p.source)
    return [
        """
        CREATE TEMP TABLE csv_product ON COMMIT DROP AS
        SELECT i.product, i.line, i.name, i.sku FROM csv_item i
        WHERE i.line IN (SELECT min(line) FROM csv_item
                         WHERE product IS NOT NULL AND order_id NOT IN (SELECT order_id FROM csv_bad)
                           AND order_id NOT IN (SELECT order_id FROM csv_head WHERE head_err IS NOT NULL)
                         GROUP BY product)
        """,
        f"""
        INSERT INTO product (store_id, source, external_id, name, sku, category, created_at, updated_at)
        SELECT {s}, {src}, f.product, left(COALESCE(f.name, f.product), 500), f.sku, NULL, now(), now()
        FROM csv_product f
        WHERE NOT EXISTS (
            SELECT 1 FROM product p WHERE p.store_id = {s} AND p.source = {src} AND p.external_id = f.product)
        ORDER BY f.line
        ON CONFLICT DO NOTHING
        """,
    ]


def _file_lines(p: _Params, where: str) -> str:
    """The line items of the file's good orders (`where` picks which), with their order and product ids."""
    s, src = p.store_id, cells.literal(p.source)
    return f"""
    SELECT o.id AS order_id, r.line, r.line_ext AS external_id, pr.id AS product_id, r.name, r.sku,
           r.quantity, r.unit_price, r.line_total
    FROM csv_item r JOIN csv_order o ON o.external_id = r.order_id
    LEFT JOIN product pr ON pr.store_id = {s} AND pr.source = {src} AND pr.external_id = r.product
    WHERE {where}
    """


def _existing(p: _Params) -> list[str]:
    """`csv_touched`: the stored orders of the file that differ from it, and in what: the order row
    (`changed`), its lines compared position by position (`lines`), its refunds (`refunds`)."""
    s = p.store_id
    fields = ", ".join(f"x.{name}" for name in _ORDER_FIELDS)
    ours = ", ".join(_BUYER if name == "customer_id" else f"o.{name}" for name in _ORDER_FIELDS)
    line_fields = ("external_id", "product_id", "name", "sku", "quantity", "unit_price", "line_total")
    stored = ", ".join(f"a.{name}" for name in line_fields)
    filed = ", ".join(f"b.{name}" for name in line_fields)
    refund_sig = "concat_ws(',', quote_nullable({id}), {amount}, extract(epoch FROM {at}), quote_nullable({reason}))"
    stored_refund = refund_sig.format(id="external_id", amount="amount", at="refunded_at", reason="reason")
    file_refund = refund_sig.format(id="'csv'", amount="o.refund_amount", at="o.refunded_at", reason="NULL::text")
    return [
        f"""
        CREATE TEMP TABLE csv_touched ON COMMIT DROP AS
        SELECT o.id, ROW({fields}, x.billing IS NULL OR x.billing = 'null'::jsonb)
                     IS DISTINCT FROM ROW({ours}, true) AS changed,
               false AS lines, false AS refunds
        FROM csv_order o JOIN orders x ON x.id = o.old_id LEFT JOIN csv_key k ON k.key = o.key
        """,
        f"""
        WITH a AS MATERIALIZED (
            SELECT order_id, row_number() OVER (PARTITION BY order_id ORDER BY id) AS line_no, {", ".join(line_fields)}
            FROM order_line WHERE store_id = {s} AND order_id IN (SELECT old_id FROM csv_order)),
        b AS MATERIALIZED (
            SELECT f.*, row_number() OVER (PARTITION BY order_id ORDER BY line) AS line_no
            FROM ({_file_lines(p, "o.old_id IS NOT NULL")}) f),
        d AS MATERIALIZED (
            SELECT DISTINCT COALESCE(a.order_id, b.order_id) AS id
            FROM a FULL JOIN b ON b.order_id = a.order_id AND b.line_no = a.line_no
            WHERE ROW({stored}) IS DISTINCT FROM ROW({filed}))
        UPDATE csv_touched t SET lines = true FROM d WHERE t.id = d.id
        """,
        f"""
        WITH old AS MATERIALIZED (
            SELECT order_id, string_agg({stored_refund}, '|' ORDER BY external_id) AS sig FROM refund
            WHERE store_id = {s} AND order_id IN (SELECT old_id FROM csv_order) GROUP BY order_id),
        d AS MATERIALIZED (
            SELECT o.id FROM csv_order o LEFT JOIN old ON old.order_id = o.id
            WHERE o.old_id IS NOT NULL
              AND old.sig IS DISTINCT FROM CASE WHEN o.refund_amount IS NOT NULL THEN {file_refund} END)
        UPDATE csv_touched t SET refunds = true FROM d WHERE t.id = d.id
        """,
        "DELETE FROM csv_touched WHERE NOT (changed OR lines OR refunds)",
    ]


def _apply(p: _Params, existing: bool) -> list[str]:
    """Insert the new orders with their lines and refunds; update the changed stored ones and replace
    their lines and refunds where those differ."""
    s, src = p.store_id, cells.literal(p.source)
    names = ", ".join(_ORDER_FIELDS)
    values = ", ".join(_BUYER if name == "customer_id" else f"o.{name}" for name in _ORDER_FIELDS)
    line_columns = "order_id, external_id, product_id, name, sku, quantity, unit_price, line_total"
    statements = [
        f"""
        INSERT INTO orders (id, store_id, source, external_id, {names}, billing, created_at)
        SELECT o.id, {s}, {src}, o.external_id, {values}, NULL, now()
        FROM csv_order o LEFT JOIN csv_key k ON k.key = o.key WHERE o.old_id IS NULL ORDER BY o.id
        """,
    ]
    lines_of = "o.old_id IS NULL"
    refunds_of = "o.old_id IS NULL"
    if existing:
        sets = ", ".join(f"{name} = {_BUYER if name == 'customer_id' else 'o.' + name}" for name in _ORDER_FIELDS)
        statements += [
            f"""
            UPDATE orders x SET {sets}, billing = NULL
            FROM csv_touched t JOIN csv_order o ON o.id = t.id LEFT JOIN csv_key k ON k.key = o.key
            WHERE x.id = t.id AND t.changed
            """,
            f"DELETE FROM order_line WHERE store_id = {s} AND order_id IN (SELECT id FROM csv_touched WHERE lines)",
            f"DELETE FROM refund WHERE store_id = {s} AND order_id IN (SELECT id FROM csv_touched WHERE refunds)",
        ]
        lines_of += " OR o.id IN (SELECT id FROM csv_touched WHERE lines)"
        refunds_of += " OR o.id IN (SELECT id FROM csv_touched WHERE refunds)"
    statements += [
        f"""
        INSERT INTO order_line (store_id, {line_columns})
        SELECT {s}, {line_columns} FROM ({_file_lines(p, lines_of)}) n ORDER BY order_id, line
        """,
        f"""
        INSERT INTO refund (store_id, order_id, external_id, amount, refunded_at, reason)
        SELECT {s}, o.id, 'csv', o.refund_amount, o.refunded_at, NULL FROM csv_order o
        WHERE o.refund_amount IS NOT NULL AND ({refunds_of}) ORDER BY o.id
        """,
    ]
    return statements


def upsert_staged_orders(session: Session, store_id: int, source: str, timezone: str, currency: str,
                         statuses: Mapping[str, str]) -> BulkOutcome:
    """Validate, match and upsert the orders staged in the session's transaction (no commit)."""
    p = _Params(store_id, source, timezone, currency, statuses)
    driver = session.connection().connection.driver_connection
    run = driver.execute
    # Room for the sorts; no JIT: the parsing expressions are long, compiling them costs seconds.
    for statement in TUNING_STATEMENTS:
        run(statement)
    keyed = _skip_key_triggers(run, store_id)
    erasures = run(f"SELECT EXISTS (SELECT 1 FROM erased_identity WHERE store_id = {store_id})").fetchone()[0]
    countries = _countries(run, driver)
    _timed(run, _heads(p, countries))
    if run(_SCATTERED).fetchone()[0]:  # rare: renumber, then take each order's true first row
        _timed(run, _POSITIONS)
        run("DROP TABLE csv_head")
        _timed(run, _heads(p, countries))
    # Statistics on the join columns only: the planner needs sizes and distinct counts, not the rest.
    for statement in (_ITEMS, "ANALYZE csv_item (line, order_id, product)", _BAD, _orders(p, erasures),
                      "ANALYZE csv_order (external_id, key, old_id, id)", *_customers(p)):
        _timed(run, statement)
    existing = run("SELECT EXISTS (SELECT 1 FROM csv_order WHERE old_id IS NOT NULL)").fetchone()[0]
    for statement in _products(p):
        _timed(run, statement)
    if existing:
        for statement in _existing(p):
            _timed(run, statement)
    if keyed:
        _timed(run, _KEY_SHARE.format(s=store_id, src=cells.literal(source)))
    for statement in _apply(p, existing):
        _timed(run, statement)
    created, updated, unchanged = run("""
        SELECT count(*) FILTER (WHERE old_id IS NULL),
               count(*) FILTER (WHERE old_id IS NOT NULL AND id IN (SELECT id FROM csv_touched)),
               count(*) FILTER (WHERE old_id IS NOT NULL AND id NOT IN (SELECT id FROM csv_touched))
        FROM csv_order""" if existing else "SELECT count(*), 0, 0 FROM csv_order").fetchone()
    touched_orders = "o.old_id IS NULL" + (" OR o.id IN (SELECT id FROM csv_touched)" if existing else "")
    touched = [row[0] for row in run(f"""
        SELECT {_BUYER} FROM csv_order o LEFT JOIN csv_key k ON k.key = o.key
        WHERE ({touched_orders}) AND {_BUYER} IS NOT NULL
        UNION
        SELECT old_customer_id FROM csv_order o WHERE old_customer_id IS NOT NULL AND ({touched_orders})
        EXCEPT
        SELECT customer_id FROM csv_key WHERE is_new""")]
    new_customers = run("SELECT count(*) FROM csv_key WHERE is_new").fetchone()[0]
    return BulkOutcome(created, updated, unchanged, touched, new_customers)


#: What the foreign-key triggers would lock row by row, locked in one go: the existing customers,
#: products and orders the written rows point to, so that nobody deletes them before the commit.
_KEY_SHARE = """
    SELECT (SELECT count(*) FROM (SELECT 1 FROM customer WHERE id IN (SELECT customer_id FROM csv_key WHERE NOT is_new)
                                  FOR KEY SHARE) c)
         + (SELECT count(*) FROM (SELECT 1 FROM product WHERE store_id = {s} AND source = {src}
                                  AND external_id IN (SELECT product FROM csv_product) FOR KEY SHARE) p)
         + (SELECT count(*) FROM (SELECT 1 FROM orders WHERE id IN (SELECT old_id FROM csv_order) FOR KEY SHARE) o)
"""


def _skip_key_triggers(run, store_id: int) -> bool:
    """Skip the row-by-row foreign-key triggers for this transaction when the role may (superuser), as
    `pg_restore` and the data generator do: every id written here was just looked up or drawn, and
    `_KEY_SHARE` takes the locks the triggers would have taken. They cost more than half of a large
    import otherwise. The only triggers of the tables this import writes are the analytics invalidation
    ones (migration analytics_0002), which are ENABLE ALWAYS and so fire under the replica role too."""
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
    cell `value` of `column` is bad and the kind words why. An order whose own fields are bad is
    reported at its first row only; one with a bad line item at every row."""
    driver = session.connection().connection.driver_connection
    with driver.cursor(name="csv_rejects") as cursor:
        cursor.execute(f"""
            SELECT line, NULL, bad, NULL, NULL FROM {STAGE} WHERE bad IS NOT NULL
            UNION ALL
            SELECT line, NULL, 'order_id is required', NULL, NULL FROM {STAGE} WHERE bad IS NULL AND order_id = ''
            UNION ALL
            SELECT line, order_id, NULL, head_err, head_err_value FROM csv_head WHERE head_err IS NOT NULL
            UNION ALL
            SELECT s.line, s.order_id,
                   CASE WHEN r.line_err IS NULL THEN
                       'order ' || s.order_id || ' is rejected: its row at line ' || b.first_bad || ' is bad' END,
                   r.line_err, r.line_err_value
            FROM {STAGE} s JOIN csv_bad b ON b.order_id = s.order_id LEFT JOIN csv_item r ON r.line = s.line
            WHERE s.bad IS NULL AND s.order_id NOT IN (SELECT order_id FROM csv_head WHERE head_err IS NOT NULL)
            ORDER BY 1""")
        yield from cursor
