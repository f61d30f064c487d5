"""One bad CSV row is a reject with its line and a reason, never a failed import: a year 0001 or 9999,
an amount of 1e999999, a 10 KB id or email; in every CSV kind, on the record path and on
PostgreSQL's bulk orders path. Ids and emails are bounded by the columns that store them."""

from __future__ import annotations

import pytest

from crm_graph.services.csv_import import import_csv

BIG = "x" * 10_000

#: kind -> (header, good rows, {line: (bad row, words of its reason)}); the good rows come first.
FILES = {
    "customers": ("customer_id,email,created_at", ["c1,a@example.com,2026-01-01", "c2,b@example.com,"], {
        4: ("c3,c@example.com,0001-01-01", "outside the years"),
        5: (f"{BIG},d@example.com,2026-01-01", "customer_id is longer than 255"),
        6: ("c5,e@example.com,0001-01-01T00:00:00+05:00", "outside the years"),
        7: ("c6,f@example.com,9999-12-31T23:59:59-05:00", "outside the years"),
        8: (f"c7,{BIG}@example.com,2026-01-01", "email is longer than 320"),
        9: (f",{'y' * 300}@example.com,2026-01-01", "longer than 255"),
    }),
    "orders": ("order_id,placed_at,status,total,customer_id,email,phone,quantity,product_id",
               ["o1,2026-01-01,PAID,10,c1,,,,", "o2,2026-01-02,PAID,12.5,,,,2,p1"], {
        4: ("o3,0001-01-01,PAID,10,c1,,,,", "placed_at '0001-01-01' is outside the years"),
        5: (f"{BIG},2026-01-01,PAID,10,c1,,,,", "order_id is longer than 255"),
        6: ("o5,2026-01-01,PAID,1e999999,c1,,,,", "total '1e999999' is too large"),
        7: (f"o6,2026-01-01,PAID,10,{BIG},,,,", "customer_id is longer than 255"),
        8: ("o7,2026-01-01,PAID,99999999999999999,c1,,,,", "too large"),
        9: (f"o8,2026-01-01,PAID,10,,,+{'1' * 40},,", "phone"),
        10: ("o9,2026-01-01,PAID,10,c1,,,99999999999,p1", "quantity"),
        11: (f"o10,2026-01-01,PAID,10,c1,,,1,{BIG}", "product_id is longer than 255"),
    }),
    "consents": ("customer_id,channel,state,occurred_at", ["c1,EMAIL,SUBSCRIBED,2026-01-01"], {
        3: ("c1,SMS,SUBSCRIBED,0001-01-01", "outside the years"),
        4: (f"{BIG},EMAIL,SUBSCRIBED,2026-01-01", "customer_id is longer than 255"),
    }),
    "tags": ("customer_id,tag,applied_at", ["c1,vip,2026-01-01"], {
        3: ("c1,old,0001-01-01", "outside the years"),
        4: (f"{BIG},vip,2026-01-01", "customer_id is longer than 255"),
    }),
    "marketing_spend": ("channel,day,amount", ["google,2026-01-01,10"], {
        3: ("google,0001-01-01,10", "day '0001-01-01' is outside the years"),
        4: ("meta,2026-01-03,1e999999", "amount '1e999999' is too large"),
    }),
}


@pytest.mark.parametrize("bulk", [None, False], ids=["default path", "record path"])
@pytest.mark.parametrize("kind", list(FILES))
def test_extreme_rows_are_rejected_with_their_line(engine, make_store, tmp_path, kind, bulk):
    store = make_store(timezone="Asia/Kolkata")
    customers = tmp_path / "known.csv"
    customers.write_text("customer_id,email\nc1,a@example.com\n", encoding="utf-8")
    import_csv(engine, store.id, customers, "customers")
    header, good, bad = FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_text("\n".join([header, *good, *(row for row, _ in bad.values())]) + "\n", encoding="utf-8")
    summary = import_csv(engine, store.id, path, kind, bulk=bulk)
    assert summary.counts["rejected"] == len(bad), [(e.line, e.reason) for e in summary.errors]
    assert summary.counts["created"] + summary.counts["updated"] >= 1
    reasons = {error.line: error.reason for error in summary.errors}
    for line, (_, words) in bad.items():
        assert words in reasons.get(line, ""), (line, reasons)
        assert len(reasons[line]) < 300  # a reason never repeats a 10 KB cell
    rejects = (tmp_path / f"{kind}.csv.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "line,record,reason" and len(rejects) == len(bad) + 1
