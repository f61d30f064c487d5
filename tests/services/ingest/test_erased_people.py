"""A person erased under GDPR stays erased when a sync or import brings their records again."""

from decimal import Decimal

from sqlmodel import Session, select

from crm_graph.connectors import CustomerRecord, CustomerRef, OrderRecord
from crm_graph.models import Customer, Order
from crm_graph.models.enums import OrderStatus
from crm_graph.services.customers.erasure import erase_customers
from crm_graph.services.customers.selection import Selection
from crm_graph.services.ingest import ingest_records
from tests.factories import utc

SOURCE = "shop"


def ingest(engine, store, records):
    with Session(engine, expire_on_commit=False) as session:
        result = ingest_records(session, store, records, source=SOURCE)
        session.commit()
    return result


def person(external_id="c1", email="ada@example.com", phone="+48600100200"):
    return CustomerRecord(source=SOURCE, external_id=external_id, email=email, phone=phone,
                          first_name="Ada", last_name="Lovelace")


def purchase(external_id, customer: CustomerRef, total="40.00"):
    return OrderRecord(source=SOURCE, external_id=external_id, customer=customer, status=OrderStatus.PAID,
                       placed_at=utc(2026, 3, 1, 12), currency="USD", total=Decimal(total),
                       billing={"first_name": "Ada", "email": customer.email}, lines=[])


def erase_everyone(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        ids = tuple(session.exec(select(Customer.id).where(Customer.store_id == store.id)))
        erase_customers(session, store, Selection(ids=ids))
        session.commit()


def live_customers(engine, store):
    with Session(engine) as session:
        return list(session.exec(select(Customer).where(Customer.store_id == store.id, Customer.erased_at.is_(None))))


def test_an_erased_customer_record_is_rejected_not_recreated(engine, store):
    ingest(engine, store, [person()])
    erase_everyone(engine, store)

    again = ingest(engine, store, [person(), person("c2", email="ADA@example.com", phone=None),
                                   person("c3", email=None, phone="+48600100200"),
                                   person("c4", email="grace@example.com", phone=None)])

    assert [customer.email for customer in live_customers(engine, store)] == ["grace@example.com"]
    rejected = [error.record for error in again.errors]
    assert sorted(rejected) == ["c1", "c2", "c3"]
    assert all("erased" in error.reason for error in again.errors)


def test_an_erased_persons_orders_keep_amounts_but_no_personal_data(engine, store):
    ada = CustomerRef(external_id="c1", email="ada@example.com")
    ingest(engine, store, [person(), purchase("o1", ada)])
    erase_everyone(engine, store)
    with Session(engine) as session:
        erased_id = session.exec(select(Customer.id).where(Customer.store_id == store.id)).one()

    guest = CustomerRef(email="ada@example.com")  # the same person, now as a guest
    ingest(engine, store, [purchase("o1", ada, total="45.00"), purchase("o2", guest, total="10.00")])

    assert live_customers(engine, store) == []
    with Session(engine) as session:
        orders = {o.external_id: o for o in session.exec(select(Order).where(Order.store_id == store.id))}
    assert orders["o1"].total == Decimal("45.00") and orders["o1"].customer_id == erased_id
    assert orders["o2"].total == Decimal("10.00") and orders["o2"].customer_id is None
    for order in orders.values():
        assert order.email is None and order.phone is None and order.billing is None
