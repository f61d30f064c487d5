"""GDPR erasure: a customer's personal data is removed everywhere it is kept, in set-based SQL.

What erasure does to each selected customer (all in the caller's transaction):
1. `customer.erased_at` is set: from then on the customer matches no filter and no count.
2. Tombstones: a SHA-256 of each identity (`source:external_id`), of the email (`email:...`) and of
   the phone (`phone:...`) goes to `erased_identity`, so that importers can refuse to bring the
   person back (`is_erased_identity`); the identities themselves are deleted.
3. Orders keep their amounts (the store's revenue history stays true) but lose the contact copies:
   `email`, `phone` and `billing` are blanked, on the customer's orders and on guest orders that
   carry the customer's email.
4. Consent history keeps channel, state, opt-in level, source and time, and loses `reason` and
   `actor`, which may hold personal data.
5. Tags are taken off (`removed_at`), so tag counts drop the customer.
6. The customer row keeps only its id, store, dates, lifetime order figures and acquisition channel;
   email, phone, names, city and country are cleared and gender becomes UNKNOWN.
7. A `customer_erasure` row records when and by whom (the API key, never a person's data).
8. What is kept outside the customer tables is scrubbed (`services.retention.scrub_erased`): stored
   webhook bodies that mention the person lose their body, uploads still waiting for their import
   lose the person's rows, job errors naming them lose the record.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, insert, literal, select, update
from sqlmodel import Session

from crm_graph.models import (
    ConsentEvent, Customer, CustomerErasure, CustomerIdentity, CustomerTag, ErasedIdentity, Order, Store,
)
from crm_graph.models.enums import Gender
from crm_graph.models.types import utcnow
from crm_graph.services.customers.selection import Selection, selected_ids

_BATCH = 1000


def identity_hash(source: str, value: str) -> str:
    """The tombstone of one identity: SHA-256 of ``source:value`` (emails lower-cased)."""
    if source == "email":
        value = value.strip().lower()
    return hashlib.sha256(f"{source}:{value}".encode()).hexdigest()


def is_erased_identity(session: Session, store: Store | int, source: str, value: str) -> bool:
    """True when an identity (or `email`/`phone` value) belonged to a customer the store erased."""
    store_id = store if isinstance(store, int) else store.id
    found = session.exec(
        select(ErasedIdentity.id).where(
            ErasedIdentity.store_id == store_id, ErasedIdentity.identity_hash == identity_hash(source, value)
        )
    ).first()
    return found is not None


def erase_customers(session: Session, store: Store, selection: Selection, *, actor: str | None = None) -> int:
    """Erase the selected customers' personal data (see the module docstring); returns how many."""
    ids = selected_ids(session, store, selection)
    stamp = utcnow()
    marked = session.execute(
        update(Customer)
        .where(Customer.store_id == store.id, Customer.erased_at.is_(None), Customer.id.in_(ids))
        .values(erased_at=stamp)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    if not marked:
        return 0
    erased = select(Customer.id).where(Customer.store_id == store.id, Customer.erased_at == stamp)
    _write_tombstones(session, store, stamp, erased)
    people = _erased_people(session, store, stamp, erased)
    erased_emails = select(Customer.email).where(
        Customer.store_id == store.id, Customer.erased_at == stamp, Customer.email.is_not(None)
    )
    blank = {"email": None, "phone": None, "billing": None}
    session.execute(
        update(Order).where(Order.store_id == store.id, Order.customer_id.in_(erased)).values(**blank)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Order).where(Order.store_id == store.id, Order.customer_id.is_(None), Order.email.in_(erased_emails))
        .values(**blank).execution_options(synchronize_session=False)
    )
    session.execute(
        update(ConsentEvent).where(ConsentEvent.store_id == store.id, ConsentEvent.customer_id.in_(erased))
        .values(reason=None, actor=None).execution_options(synchronize_session=False)
    )
    session.execute(
        update(CustomerTag)
        .where(CustomerTag.store_id == store.id, CustomerTag.removed_at.is_(None), CustomerTag.customer_id.in_(erased))
        .values(removed_at=stamp).execution_options(synchronize_session=False)
    )
    session.execute(
        delete(CustomerIdentity).where(CustomerIdentity.store_id == store.id, CustomerIdentity.customer_id.in_(erased))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Customer).where(Customer.store_id == store.id, Customer.erased_at == stamp)
        .values(email=None, phone=None, first_name=None, last_name=None, city=None, country=None,
                gender=Gender.UNKNOWN.value, has_account=False, updated_at=stamp)
        .execution_options(synchronize_session=False)
    )
    rows = select(
        literal(store.id), Customer.id, literal(stamp, CustomerErasure.__table__.c.erased_at.type), literal(actor)
    ).where(Customer.store_id == store.id, Customer.erased_at == stamp)
    session.execute(insert(CustomerErasure).from_select(["store_id", "customer_id", "erased_at", "actor"], rows))
    from crm_graph.services.retention import scrub_erased

    scrub_erased(session, store, people)
    session.expire_all()
    return marked


def _erased_people(session: Session, store: Store, stamp, erased):
    """The emails, phones and platform ids of the customers erased at `stamp` (read before they are
    blanked), for `services.retention.scrub_erased`."""
    from crm_graph.services.retention import ErasedPeople

    people = ErasedPeople()
    for email, phone in session.execute(select(Customer.email, Customer.phone).where(
            Customer.store_id == store.id, Customer.erased_at == stamp)):
        if email:
            people.emails.add(email.strip().lower())
        if phone:
            people.phones.add(phone)
    people.identities.update((source, external_id) for source, external_id in session.execute(
        select(CustomerIdentity.source, CustomerIdentity.external_id).where(
            CustomerIdentity.store_id == store.id, CustomerIdentity.customer_id.in_(erased))))
    return people


def _write_tombstones(session: Session, store: Store, stamp, erased) -> None:
    """Hash every identity, email and phone of the customers erased at `stamp`, a batch at a time."""
    sources = [
        select(CustomerIdentity.source, CustomerIdentity.external_id).where(
            CustomerIdentity.store_id == store.id, CustomerIdentity.customer_id.in_(erased)
        ),
        select(literal("email"), Customer.email).where(
            Customer.store_id == store.id, Customer.erased_at == stamp, Customer.email.is_not(None)
        ),
        select(literal("phone"), Customer.phone).where(
            Customer.store_id == store.id, Customer.erased_at == stamp, Customer.phone.is_not(None)
        ),
    ]
    for query in sources:
        result = session.execute(query.execution_options(yield_per=_BATCH))
        for batch in result.partitions():
            hashes = sorted({identity_hash(source, value) for source, value in batch})
            known = set(
                session.exec(
                    select(ErasedIdentity.identity_hash).where(
                        ErasedIdentity.store_id == store.id, ErasedIdentity.identity_hash.in_(hashes)
                    )
                ).scalars()
            )
            fresh = [
                {"store_id": store.id, "identity_hash": value, "erased_at": stamp} for value in hashes if value not in known
            ]
            if fresh:
                session.execute(insert(ErasedIdentity), fresh)


__all__ = ["erase_customers", "identity_hash", "is_erased_identity"]
