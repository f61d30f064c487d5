"""Customers, consents and activity files import the same in large batches as one record at a time.

Large batches take the fast paths: on PostgreSQL many rows go through a COPY into a temporary table
and one INSERT (from `COPY_FROM` rows on), activity events are inserted with ON CONFLICT ... RETURNING
instead of being looked up first, new customers are created with the consent states of the batch's
consent records, and the consent triggers refresh the states of a statement's customers at once.
A batch of one record takes none of them. Every outcome must agree: counts, rejects with their
lines, consent states, activity and `last_activity_at`, and nothing changes on a second import.
"""

from sqlmodel import Session, select

from crm_graph.models import Customer
from crm_graph.services.csv_import import import_csv
from crm_graph.services.customers.erasure import erase_customers
from crm_graph.services.customers.selection import Selection
from crm_graph.services.ingest._common import COPY_FROM
from tests.ingest_helpers import rows

N = COPY_FROM + 30  # customers: more than a fast path needs
T = "2026-02-01T10:00:00Z"


def customers_file() -> str:
    lines = ["customer_id,email,country,created_at,email_consent,sms_consent,consent_updated_at,has_account"]
    for i in range(N):
        email_state = ("subscribed", "unsubscribed", "")[i % 3]
        sms_state = "pending" if i % 4 == 0 else ""
        lines.append(f"C{i},c{i}@example.com,PL,2026-01-{1 + i % 28:02d}T10:00:00Z,{email_state},{sms_state},,true")
    # One customer on three rows at the same instant: SUBSCRIBED, UNSUBSCRIBED, then SUBSCRIBED again,
    # which repeats the first event and is not stored: the latest stored event is UNSUBSCRIBED.
    for state in ("subscribed", "unsubscribed", "subscribed"):
        lines.append(f"TIE,tie@example.com,PL,2026-01-01T10:00:00Z,{state},,{T},true")
    lines.append("ERASED,erased@example.com,PL,2026-01-01T10:00:00Z,subscribed,,,true")
    return "\n".join(lines) + "\n"


def consents_file() -> str:
    lines = ["customer_id,channel,state,occurred_at,opt_in_level"]
    for i in range(N):
        channel = "SMS" if i % 2 else "EMAIL"
        lines.append(f"C{i},{channel},{'SUBSCRIBED' if i % 3 else 'UNSUBSCRIBED'},2026-03-{1 + i % 28:02d}T08:00:00Z,"
                     "CONFIRMED_OPT_IN")
    lines += [
        "C1,EMAIL,INVALID,2026-04-01T08:00:00Z,",  # both channels of one customer
        "C1,EMAIL,SUBSCRIBED,2025-01-01T08:00:00Z,",  # older than what is stored: not the state
        "NOBODY,EMAIL,SUBSCRIBED,2026-03-01T08:00:00Z,",  # unknown: rejected with its line
        "ERASED,SMS,SUBSCRIBED,2026-03-01T08:00:00Z,",  # erased: rejected with its line
        "C2,FAX,SUBSCRIBED,2026-03-01T08:00:00Z,",  # unreadable: rejected by the reader
    ]
    return "\n".join(lines) + "\n"


def activity_file() -> str:
    lines = ["customer_id,activity,occurred_at,external_id"]
    for i in range(N):
        lines.append(f"C{i},{('visit', 'open', 'click')[i % 3]},2026-05-{1 + i % 28:02d}T12:00:00Z,"
                     f"{f'a{i}' if i % 2 else ''}")
    lines += ["NOBODY,visit,2026-05-01T12:00:00Z,", "ERASED,visit,2026-05-01T12:00:00Z,"]
    return "\n".join(lines) + "\n"


def erase(engine, store, external_id):
    with Session(engine, expire_on_commit=False) as session:
        ids = tuple(session.exec(select(Customer.id).where(Customer.store_id == store.id,
                                                            Customer.email == f"{external_id.lower()}@example.com")))
        erase_customers(session, store, Selection(ids=ids))
        session.commit()


def outcome(summary):
    return (dict(summary.counts), sorted((e.line, e.reason) for e in summary.errors))


def load(engine, store, tmp_path, batch_size):
    """Import the three files into `store` (twice each) with `batch_size`; what each import reported."""
    reports = []
    for kind, text in (("customers", customers_file()), ("consents", consents_file()), ("activity", activity_file())):
        path = tmp_path / f"{kind}-{store.id}.csv"
        path.write_text(text, encoding="utf-8")
        if kind == "customers":
            path.write_text(text.replace("ERASED,erased@example.com,PL,2026-01-01T10:00:00Z,subscribed,,,true\n", ""),
                            encoding="utf-8")
            import_csv(engine, store.id, path, kind, batch_size=batch_size)
            path.write_text("customer_id,email\nERASED,erased@example.com\n", encoding="utf-8")
            import_csv(engine, store.id, path, kind, batch_size=batch_size)
            erase(engine, store, "ERASED")
            path.write_text(text, encoding="utf-8")
        first = import_csv(engine, store.id, path, kind, batch_size=batch_size)
        again = import_csv(engine, store.id, path, kind, batch_size=batch_size)
        reports.append((kind, outcome(first), outcome(again)))
    return reports


def stored(engine, store):
    """Each live customer's consent states and last activity, and the events, by customer_id."""
    customers = rows(engine, "SELECT i.external_id, c.email_consent_state, c.sms_consent_state, c.last_activity_at "
                     "FROM customer c JOIN customer_identity i ON i.customer_id = c.id "
                     "WHERE c.store_id = :s AND c.erased_at IS NULL ORDER BY i.external_id", s=store.id)
    consents = rows(engine, "SELECT i.external_id, e.channel, e.state, e.occurred_at FROM consent_event e "
                    "JOIN customer_identity i ON i.customer_id = e.customer_id WHERE e.store_id = :s "
                    "ORDER BY 1, 2, 4, 3", s=store.id)
    activity = rows(engine, "SELECT i.external_id, a.kind, a.occurred_at, a.external_id FROM activity_event a "
                    "JOIN customer_identity i ON i.customer_id = a.customer_id WHERE a.store_id = :s "
                    "ORDER BY 1, 3, 4", s=store.id)
    return customers, consents, activity


def test_large_batches_import_as_one_record_at_a_time(engine, make_store, tmp_path):
    fast, slow = make_store(), make_store()
    fast_reports = load(engine, fast, tmp_path, batch_size=5000)
    slow_reports = load(engine, slow, tmp_path, batch_size=1)
    # A customer twice in one batch is one record there ("the last wins"), so the counts of the
    # customers file depend on the batches; its rejects do not.
    assert [(kind, first[1]) for kind, first, _ in fast_reports[:1]] == [
        (kind, first[1]) for kind, first, _ in slow_reports[:1]]
    assert fast_reports[1:] == slow_reports[1:]
    assert stored(engine, fast) == stored(engine, slow)

    reports = {kind: (first, again) for kind, first, again in fast_reports}
    (counts, errors), (again, _) = reports["consents"]
    assert (counts["created"], counts["rejected"]) == (N + 2, 3)
    assert [line for line, _ in errors] == [N + 4, N + 5, N + 6]
    assert "erased" in errors[1][1] and again["created"] == 0 and again["unchanged"] == N + 2
    (counts, errors), (again, _) = reports["activity"]
    assert (counts["created"], counts["rejected"], again["created"]) == (N, 2, 0)
    assert [line for line, _ in errors] == [N + 2, N + 3]
    (counts, errors), _ = reports["customers"]
    assert {line for line, _ in errors} == {N + 5}  # the erased person (and its consent), on its own line

    customers = {row[0]: row[1:] for row in stored(engine, fast)[0]}
    assert customers["TIE"][:2] == ("UNSUBSCRIBED", None)
    assert customers["C1"][:2] == ("INVALID", "SUBSCRIBED")  # C1's SMS event, then its EMAIL one
    assert customers["C0"][:2] == ("UNSUBSCRIBED", "PENDING")
    assert sum(1 for _, _, last in customers.values() if last is not None) == N
