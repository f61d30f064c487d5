"""The consent triggers keep customer.<channel>_consent_state equal to the latest event's state."""

from __future__ import annotations

from sqlalchemy import delete, insert, update
from sqlmodel import Session

from crm_graph.models import ConsentEvent, Customer
from tests.factories import StoreBuilder, utc


def states(session, *customers):
    session.expire_all()
    return [(session.get(Customer, c.id).email_consent_state, session.get(Customer, c.id).sms_consent_state)
            for c in customers]


def test_latest_event_wins_whatever_the_order_of_writes(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna, jan = b.customer(), b.customer()
        b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2026, 2, 1))
        b.consent(anna, "EMAIL", "UNSUBSCRIBED", utc(2026, 1, 1))  # older, arrives later: not current
        b.consent(anna, "SMS", "PENDING", utc(2026, 1, 1))
        session.commit()
        assert states(session, anna, jan) == [("SUBSCRIBED", "PENDING"), (None, None)]
        # a bulk insert of several customers' events in one statement
        session.execute(insert(ConsentEvent), [
            {"store_id": store.id, "customer_id": c.id, "channel": "EMAIL", "state": state, "opt_in_level": "UNKNOWN",
             "occurred_at": at, "source": "test", "created_at": at}
            for c, state, at in ((anna, "INVALID", utc(2026, 3, 1)), (jan, "SUBSCRIBED", utc(2026, 1, 5)),
                                 (jan, "NOT_SUBSCRIBED", utc(2026, 1, 4)))
        ])
        session.commit()
        assert states(session, anna, jan) == [("INVALID", "PENDING"), ("SUBSCRIBED", None)]
        session.execute(update(ConsentEvent).where(ConsentEvent.customer_id == jan.id, ConsentEvent.state == "SUBSCRIBED")
                        .values(occurred_at=utc(2026, 1, 1)))
        session.commit()
        assert states(session, jan) == [("NOT_SUBSCRIBED", None)]
        session.execute(delete(ConsentEvent).where(ConsentEvent.customer_id == anna.id, ConsentEvent.state == "INVALID"))
        session.execute(delete(ConsentEvent).where(ConsentEvent.customer_id == anna.id, ConsentEvent.channel == "SMS"))
        session.commit()
        assert states(session, anna) == [("SUBSCRIBED", None)]
