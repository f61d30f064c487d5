"""Customers: upsert on (store, source, external id) and resolve the customers other records name.

A record's external id is looked up in `customer_identity`. A new external id, or a guest known only
by contact details, is matched to an existing customer by email, then by phone, and otherwise becomes
a new customer. Guests get the identity ``guest:<email or phone>`` in the source, so that they are
found again even after their email changed. A reference by another source's id (a CRM ID such as
``woocommerce:123``, `CustomerRef.source`) is looked up in that source's identities only and never
creates a customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from crm_graph.connectors.records import ConsentRecord, CustomerRecord, CustomerRef
from crm_graph.models import Customer, CustomerIdentity, ErasedIdentity, Store
from crm_graph.models.enums import Gender
from crm_graph.models.types import utcnow
from crm_graph.services.ingest._common import StepResult, bulk_insert, fetch_in, in_values, insert_returning_ids
from crm_graph.services.ingest.tags import sync_customer_tags

C = Customer.__table__
I = CustomerIdentity.__table__  # noqa: E741
E = ErasedIdentity.__table__

#: Columns a customer record may set; None in a record leaves the stored value alone.
_FIELDS = ("email", "phone", "first_name", "last_name", "gender", "country", "city", "has_account",
           "acquisition_channel")


@dataclass(slots=True)
class Contact:
    """Details to create a customer with when a reference names nobody the store knows yet."""

    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    city: str | None = None
    created_at: datetime | None = None
    has_account: bool = False
    #: The consent states the customer will have once the batch's consent events are written (see
    #: `expected_consent_states`): stored at creation, so the consent triggers need not rewrite the row.
    email_consent_state: str | None = None
    sms_consent_state: str | None = None


def unresolved(ref: CustomerRef, erased: bool) -> str:
    """Why a reference found no customer (the reason of the reject)."""
    if erased:
        return "this person was erased (GDPR) and is not imported again"
    if ref.source:
        return f"no customer with crm_id {ref.source}:{ref.external_id} in the store"
    return "no customer with this id, email or phone in the store"


def identity_key(ref: CustomerRef) -> str | None:
    """The external id a reference is stored under: the platform's, else ``guest:<email or phone>``."""
    if ref.external_id:
        return ref.external_id
    if ref.email:
        return f"guest:{ref.email}"
    if ref.phone:
        return f"guest:{ref.phone}"
    return None


class CustomerResolver:
    """Finds (and, when asked, creates) the customer ids of references, a batch at a time."""

    def __init__(self, session: Session, store: Store, source: str) -> None:
        self.session = session
        self.store = store
        self.source = source
        self._tombstones: bool | None = None

    def identities(self, keys: Sequence[str], source: str | None = None) -> dict[str, int]:
        """Customer ids of external ids of this source (or of `source`)."""
        source = source or self.source
        rows = fetch_in(self.session, lambda chunk: select(I.c.external_id, I.c.customer_id).where(
            I.c.store_id == self.store.id, I.c.source == source, in_values(I.c.external_id, chunk)), keys)
        return {external_id: customer_id for external_id, customer_id in rows}

    def foreign(self, ref: CustomerRef) -> bool:
        """Whether `ref` names a customer by another source's id (a CRM ID)."""
        return bool(ref.source and ref.external_id and ref.source != self.source)

    def _resolve_foreign(self, refs: Sequence[CustomerRef], erased: Sequence[bool]) -> dict[int, int | None]:
        """The customer id of each reference by another source's id (by position), None when unknown or erased."""
        wanted: dict[str, list[int]] = {}
        for i, ref in enumerate(refs):
            if self.foreign(ref):
                wanted.setdefault(ref.source, []).append(i)
        out: dict[int, int | None] = {}
        for source, positions in wanted.items():
            found = self.identities([refs[i].external_id for i in positions if not erased[i]], source)
            out.update({i: None if erased[i] else found.get(refs[i].external_id) for i in positions})
        return out

    def by_contact(self, column, values: Sequence[str]) -> dict[str, int]:
        """The oldest live customer per email (or phone)."""
        rows = fetch_in(self.session, lambda chunk: select(column, C.c.id).where(
            C.c.store_id == self.store.id, in_values(column, chunk), C.c.erased_at.is_(None)).order_by(C.c.id.desc()),
            values)
        return {value: customer_id for value, customer_id in rows}  # the last (lowest id) wins

    def _has_tombstones(self) -> bool:
        """Whether the store has erased anybody (asked once per resolver, i.e. per batch): most stores
        never have, and then no reference needs hashing and looking up."""
        if self._tombstones is None:
            self._tombstones = self.session.execute(
                select(E.c.id).where(E.c.store_id == self.store.id).limit(1)).first() is not None
        return self._tombstones

    def erased(self, refs: Sequence[CustomerRef]) -> list[bool]:
        """Whether each reference names a person the store erased (GDPR): by this source's external
        id, email or phone, against the erasure tombstones. Such a person is never created or
        matched again, so a re-sync cannot bring their personal data back."""
        from crm_graph.services.customers.erasure import identity_hash

        if not self._has_tombstones():
            return [False] * len(refs)
        candidates = [
            [hashed for hashed in (
                identity_hash(ref.source or self.source, ref.external_id) if ref.external_id else None,
                identity_hash("email", ref.email) if ref.email else None,
                identity_hash("phone", ref.phone) if ref.phone else None,
            ) if hashed]
            for ref in refs
        ]
        wanted = sorted({hashed for hashes in candidates for hashed in hashes})
        if not wanted:
            return [False] * len(refs)
        rows = fetch_in(self.session, lambda chunk: select(E.c.identity_hash).where(
            E.c.store_id == self.store.id, in_values(E.c.identity_hash, chunk)), wanted)
        tombstones = {row[0] for row in rows}
        return [any(hashed in tombstones for hashed in hashes) for hashes in candidates]

    def resolve(self, refs: Sequence[CustomerRef], contacts: Sequence[Contact] | None = None,
                *, create: bool = False, erased: Sequence[bool] | None = None) -> tuple[list[int | None], set[int]]:
        """The customer id of each reference (None when unknown and not `create`, or erased), and
        the new ids. `erased` is `self.erased(refs)` when the caller has it already. A reference by
        another source's id is only looked up, never created nor matched by email or phone."""
        if erased is None:
            erased = self.erased(refs)
        foreign = self._resolve_foreign(refs, erased)
        keys = [None if gone or i in foreign else identity_key(ref) for i, (ref, gone) in enumerate(zip(refs, erased))]
        found = self.identities([key for key in keys if key])
        missing = [i for i, key in enumerate(keys) if key and key not in found]
        if missing:
            by_email = self.by_contact(C.c.email, [refs[i].email for i in missing if refs[i].email])
            by_phone = self.by_contact(C.c.phone, [refs[i].phone for i in missing if refs[i].phone])
            link: dict[str, int] = {}
            to_create: dict[str, tuple[CustomerRef, Contact]] = {}
            for i in missing:
                ref, key = refs[i], keys[i]
                if key in link or key in to_create:
                    continue
                customer_id = by_email.get(ref.email) if ref.email else None
                if customer_id is None and ref.phone:
                    customer_id = by_phone.get(ref.phone)
                if customer_id is not None:
                    link[key] = customer_id
                elif create:
                    to_create[key] = (ref, contacts[i] if contacts else Contact())
            if link:
                if create:  # remember the match as an identity of the source (not for look-ups only)
                    self._add_identities(link)
                found.update(link)
            created = self._create(to_create)
            found.update(created)
            new_ids = set(created.values())
        else:
            new_ids = set()
        return [foreign[i] if i in foreign else found.get(key) if key else None
                for i, key in enumerate(keys)], new_ids

    def _create(self, to_create: dict[str, tuple[CustomerRef, Contact]]) -> dict[str, int]:
        if not to_create:
            return {}
        now = utcnow()
        rows = [{
            "store_id": self.store.id, "email": ref.email, "phone": ref.phone,
            "first_name": contact.first_name, "last_name": contact.last_name, "gender": Gender.UNKNOWN.value,
            "country": contact.country, "city": contact.city, "has_account": contact.has_account,
            "created_at": contact.created_at or now, "updated_at": now, "orders_count": 0, "total_spent": 0,
            "email_consent_state": contact.email_consent_state, "sms_consent_state": contact.sms_consent_state,
        } for ref, contact in to_create.values()]
        ids = insert_returning_ids(self.session, C, rows)
        created = dict(zip(to_create, ids))
        self._add_identities(created)
        return created

    def _add_identities(self, mapping: dict[str, int]) -> None:
        now = utcnow()
        bulk_insert(self.session, I, [
            {"store_id": self.store.id, "customer_id": customer_id, "source": self.source,
             "external_id": external_id, "created_at": now}
            for external_id, customer_id in mapping.items()])


def _wanted(record: CustomerRecord) -> dict:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["gender"] = None if record.gender == Gender.UNKNOWN else str(record.gender)
    if not record.has_account:
        values["has_account"] = None  # another source's account stays an account
    return {name: value for name, value in values.items() if value is not None}


def expected_consent_states(source: str, consents: Sequence[ConsentRecord]) -> dict[str, dict[str, str]]:
    """Per external id of this source, the state each channel will have after `consents` are written
    to a customer that has no events yet: the state of its latest record (by time, then position).

    A new customer is created with these states, so that the consent triggers, which set the states
    from the events once they are inserted, find nothing to change: a customers file with consent
    columns then writes each new customer once instead of twice. It is only a hint: the triggers
    still compute the states from the stored events and correct any difference (every channel hinted
    here gets at least one event, as a customer without events takes its first record of a channel).
    """
    latest: dict[tuple[str, str], ConsentRecord] = {}
    for record in consents:
        ref = record.customer
        if not ref.external_id or (ref.source and ref.source != source):
            continue
        key = (ref.external_id, str(record.channel))
        if key not in latest or record.occurred_at >= latest[key].occurred_at:
            latest[key] = record
    states: dict[str, dict[str, str]] = {}
    for (external_id, channel), record in latest.items():
        states.setdefault(external_id, {})[channel] = str(record.state)
    return states


def upsert_customers(session: Session, store: Store, source: str, records: Sequence[CustomerRecord],
                     consents: Sequence[ConsentRecord] = ()) -> StepResult:
    """Create or update customers; unchanged ones are counted and left untouched. `consents` are the
    batch's consent records (written afterwards): new customers are created with the states they give."""
    result = StepResult()
    resolver = CustomerResolver(session, store, source)

    def ref_of(record: CustomerRecord) -> CustomerRef:
        return CustomerRef(external_id=record.external_id, email=record.email, phone=record.phone,
                           source=record.identity_source if record.identity_source != source else None)

    # The same id twice: the last wins. (Each record's reference is built once: it is not cheap.)
    latest = {(ref.source, ref.external_id): (record, ref) for record, ref in ((r, ref_of(r)) for r in records)}
    candidates = list(latest.values())
    records, refs = [], []
    for (record, ref), gone in zip(candidates, resolver.erased([ref for _, ref in candidates])):
        if gone:
            result.reject(record.external_id, unresolved(ref, True), record.line)
        else:
            records.append(record)
            refs.append(ref)
    before = resolver.identities([ref.external_id for ref in refs if not ref.source])
    expected = expected_consent_states(source, consents) if consents else {}
    contacts = []
    for r, ref in zip(records, refs):
        states = expected.get(ref.external_id, {}) if not ref.source else {}
        contacts.append(Contact(r.first_name, r.last_name, r.country, r.city, r.created_at, r.has_account,
                                states.get("EMAIL"), states.get("SMS")))
    ids, new_ids = resolver.resolve(refs, contacts, create=True, erased=[False] * len(refs))  # filtered above
    # A record naming a customer by another source's id updates that customer; an unknown one is rejected.
    for record, ref, customer_id in zip(records, refs, ids):
        if customer_id is None:
            result.reject(f"{ref.source}:{ref.external_id}", unresolved(ref, False), record.line)
    known = {id(record) for record, ref in zip(records, refs) if ref.source or ref.external_id in before}
    kept = [(record, customer_id) for record, customer_id in zip(records, ids) if customer_id is not None]
    records, ids = [record for record, _ in kept], [customer_id for _, customer_id in kept]

    existing_ids = [cid for cid in ids if cid not in new_ids]
    current = {row.id: row for row in fetch_in(session, lambda chunk: select(
        C.c.id, C.c.created_at, *[C.c[name] for name in _FIELDS]).where(in_values(C.c.id, chunk)), existing_ids)}
    changes = []
    now = utcnow()
    for record, customer_id in zip(records, ids):
        if customer_id in new_ids:
            values = _wanted(record)
            values = {k: v for k, v in values.items() if k not in ("email", "phone", "first_name", "last_name",
                                                                    "country", "city", "has_account")}
            if values:
                changes.append({"cid": customer_id, **values, "updated_at": now})
            result.counts["created"] += 1
            continue
        row = current[customer_id]
        values = {k: v for k, v in _wanted(record).items() if getattr(row, k) != v}
        if record.created_at and record.created_at < row.created_at:
            values["created_at"] = record.created_at
        if values:
            changes.append({"cid": customer_id, **values, "updated_at": now})
        if values or id(record) not in known:
            result.counts["updated"] += 1
        else:
            result.counts["unchanged"] += 1
    _apply_updates(session, changes)
    tagged = [(cid, record) for record, cid in zip(records, ids) if record.tags is not None]
    if tagged:
        tag_result = sync_customer_tags(session, store, source, tagged)
        # A record whose only change is its tags counts as updated.
        moved = tag_result.touched_customers - new_ids
        for record, cid in zip(records, ids):
            if cid in moved and not any(change["cid"] == cid for change in changes) and id(record) in known:
                result.counts["unchanged"] -= 1
                result.counts["updated"] += 1
    return result


def _apply_updates(session: Session, changes: list[dict]) -> None:
    """UPDATE each changed customer (grouped by the set of changed columns, one executemany per group)."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(k for k in change if k != "cid")), []).append(
            {f"v_{k}" if k != "cid" else k: v for k, v in change.items()})
    for columns, rows in groups.items():
        statement = update(C).where(C.c.id == bindparam("cid")).values(
            {name: bindparam(f"v_{name}") for name in columns})
        session.connection().execute(statement, rows)
