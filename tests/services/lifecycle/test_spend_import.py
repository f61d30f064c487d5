"""Marketing spend imported through the CSV connector feeds CAC and ROI (docs/metrics.md, “Lifecycle and marketing”)."""

from datetime import date
from decimal import Decimal

from crm_graph.services.csv_import import import_csv
from crm_graph.services.dates import make_range
from crm_graph.services.lifecycle.channels import acquisition_channels
from tests.factories import StoreBuilder, utc

ODD = 'Ünï; "quoted" / cpc'


def test_spend_csv_to_cac(engine, session, store, tmp_path):
    b = StoreBuilder(session, store)
    for i, channel in enumerate((ODD, ODD, "newsletter")):
        b.order(b.customer(email=f"{i}@example.com", acquisition_channel=channel), "50.00", utc(2026, 4, 10 + i, 12))
    b.commit()
    path = tmp_path / "spend.csv"
    path.write_text(
        "channel;day;amount\n"
        f'"{ODD.replace(chr(34), chr(34) * 2)}";2026-04-01;30.00\n'
        f'"{ODD.replace(chr(34), chr(34) * 2)}";2026-04-02;10.00\n'
        "newsletter;2026-04-03;0\n"
        "newsletter;not a day;5\n",
        encoding="utf-8",
    )

    summary = import_csv(engine, store.id, path, "marketing_spend")

    assert summary.counts["created"] == 3 and len(summary.errors) == 1 and summary.errors[0].line == 5
    session.expire_all()
    rows = {r.channel: r for r in acquisition_channels(session, store, make_range(date(2026, 4, 1), date(2026, 4, 30), store.tz))}
    # Two customers for 40.00 → CAC 20.00; revenue to date 100 → ROI (100 − 40)/40.
    assert (rows[ODD].spend, rows[ODD].cac, rows[ODD].roi) == (Decimal("40.00"), Decimal("20.00"), 1.5)
    # Zero spend: CAC and ROI are null.
    assert (rows["newsletter"].spend, rows["newsletter"].cac, rows["newsletter"].roi) == (Decimal("0.00"), None, None)
