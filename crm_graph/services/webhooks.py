"""Inbound platform webhooks: verify, then apply once, in order, and delete only what the platform confirms.

`receive_webhook` is what the HTTP endpoint calls: it checks the signature with the connector's
settings, that the body is what the topic says (the connector's `verify_webhook`), and the
delivery's age (`check_age`), and answers fast. `apply_webhook` is what a worker (or, without
workers, the endpoint itself) calls. `handle_webhook` returns the records a delivery carries.

What a signature does not cover is not trusted:

- The topic: the connector refuses a body that is not what its topic says, and a deletion is a
  notification: the record is deleted only when the platform, asked through the connector's own
  client (`Connector.confirm_deletion`), says it is gone.
- The delivery id: a delivery is a duplicate when its delivery id, or the hash of its connector,
  topic and body, was applied before (`delivery_keys`), so a replay under a new or no delivery id
  changes nothing.
- The send time: the age limit is taken from the body's modification time (signed) and the
  platform's time header (unsigned, so it can only make a delivery older).

Order: a customer or order whose modification time is older than the newest one a webhook (or,
for orders, any source) already applied is left out (`WebhookVersion`), so a late delivery does
not overwrite newer data.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from crm_graph.connectors.base import Connector, WebhookEvent, WebhookRejected, WebhookStale
from crm_graph.connectors.records import CustomerRecord, DeletionRecord, OrderRecord, Record
from crm_graph.errors import NotFound
from crm_graph.models import ConnectorConfig, Order, Store, WebhookDelivery, WebhookVersion
from crm_graph.models.types import utcnow
from crm_graph.services.ingest import IngestResult, ingest_records
from crm_graph.services.sync import load_connector

__all__ = ["WebhookOutcome", "WebhookRejected", "apply_webhook", "check_age", "delivery_keys", "handle_webhook",
           "receive_webhook"]

log = logging.getLogger("crm_graph.webhooks")

#: Prefix of the `WebhookDelivery.delivery_id` that holds a delivery's content hash.
HASH_PREFIX = "sha256:"


@dataclass
class WebhookOutcome:
    """What applying a delivery did: `duplicate` when it was applied before (same delivery id or
    same content); `skipped` counts the records left out (older than what is stored, or deletions
    the platform did not confirm)."""

    topic: str
    delivery_id: str | None
    duplicate: bool
    result: IngestResult | None
    skipped: dict[str, int] | None = None


def _config(session: Session, store_id: int, connector: str) -> ConnectorConfig:
    config = session.exec(select(ConnectorConfig).where(
        ConnectorConfig.store_id == store_id, ConnectorConfig.connector == connector,
        ConnectorConfig.enabled.is_(True))).first()
    if config is None:
        raise NotFound(f"connector {connector!r} is not registered for this store")
    return config


def check_age(event: WebhookEvent, max_age: timedelta | None, now: datetime | None = None) -> None:
    """Raise `WebhookStale` when the delivery's resource was modified, or the platform says it sent
    it, longer than `max_age` ago (None: no limit)."""
    if max_age is None:
        return
    cutoff = (now or utcnow()) - max_age
    for what, moment in (("its resource was modified", event.modified_at), ("it was sent", event.triggered_at)):
        if moment is not None and moment < cutoff:
            raise WebhookStale(f"{event.topic or 'the delivery'} is stale: {what} at {moment.isoformat()}, "
                               f"more than {max_age} ago")


def receive_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                    body: bytes, *, max_age: timedelta | None = None) -> WebhookEvent:
    """Verify a delivery's signature, topic and age; raises `WebhookRejected` (or NotFound) when it
    must be refused."""
    with Session(engine) as session:
        config = _config(session, store_id, connector)
        instance = load_connector(session, config)
    try:
        event = instance.verify_webhook(headers, body)
    finally:
        instance.close()
    check_age(event, max_age)
    return event


def handle_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                   body: bytes) -> list[Record]:
    """The records a (verified) delivery carries."""
    with Session(engine) as session:
        instance = load_connector(session, _config(session, store_id, connector))
    try:
        return instance.records_from_webhook(instance.verify_webhook(headers, body))
    finally:
        instance.close()


def delivery_keys(connector: str, event: WebhookEvent, body: bytes) -> list[str]:
    """The keys a delivery is known by: ``sha256:`` of its connector, topic and body, and the
    platform's delivery id when it has one."""
    digest = hashlib.sha256(b"\0".join([connector.encode(), event.topic.encode(), body])).hexdigest()
    keys = [HASH_PREFIX + digest]
    if event.delivery_id:
        keys.append(event.delivery_id[:255])
    return keys


def apply_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                  body: bytes) -> WebhookOutcome:
    """Verify and apply a delivery once, leaving out what is older than the stored data and the
    deletions the platform does not confirm (see the module docstring)."""
    with Session(engine, expire_on_commit=False) as session:
        store = session.get(Store, store_id)
        instance = load_connector(session, _config(session, store_id, connector))
    try:
        event = instance.verify_webhook(headers, body)
        records = instance.records_from_webhook(event)
        keys = delivery_keys(connector, event, body)
        with Session(engine) as session:
            if _seen(session, store_id, connector, keys):
                return WebhookOutcome(event.topic, event.delivery_id, True, None)
        records, unconfirmed = _confirmed(instance, records)
    finally:
        instance.close()
    skipped = {"unconfirmed_deletions": unconfirmed} if unconfirmed else {}
    with Session(engine, expire_on_commit=False) as session:
        records, older = _newest_only(session, store_id, connector, records, event.modified_at)
        if older:
            skipped["older_than_stored"] = older
        if not records:
            return WebhookOutcome(event.topic, event.delivery_id, False, None, skipped)
        topic = event.topic[:128]
        session.add_all([WebhookDelivery(store_id=store_id, connector=connector, delivery_id=key, topic=topic)
                         for key in keys])
        result = ingest_records(session, store, records, source=connector)
        try:
            session.commit()
        except IntegrityError:  # the same delivery applied concurrently
            session.rollback()
            return WebhookOutcome(event.topic, event.delivery_id, True, None)
    return WebhookOutcome(event.topic, event.delivery_id, False, result, skipped)


def _seen(session: Session, store_id: int, connector: str, keys: list[str]) -> bool:
    return session.exec(select(WebhookDelivery.id).where(
        WebhookDelivery.store_id == store_id, WebhookDelivery.connector == connector,
        WebhookDelivery.delivery_id.in_(keys))).first() is not None


def _confirmed(instance: Connector, records: list[Record]) -> tuple[list[Record], int]:
    """The records without the deletions the platform does not confirm, and how many those were."""
    kept, refused = [], 0
    for record in records:
        if isinstance(record, DeletionRecord) and not instance.confirm_deletion(record):
            log.warning("webhook deletion of %s %s %s not applied: the platform still has it",
                        record.source, record.entity, record.external_id)
            refused += 1
            continue
        kept.append(record)
    return kept, refused


def _newest_only(session: Session, store_id: int, connector: str, records: list[Record],
                 fallback: datetime | None) -> tuple[list[Record], int]:
    """Leave out customers and orders older than the newest version applied; record the new versions
    (in the session's transaction, committed with the records)."""
    kept, older = [], 0
    pending: dict[tuple[str, str], WebhookVersion] = {}
    for record in records:
        if not isinstance(record, (CustomerRecord, OrderRecord)):
            kept.append(record)
            continue
        moment = record.updated_at or fallback
        if moment is None:
            kept.append(record)
            continue
        entity, external_id = record.kind, record.external_id[:255]
        version = pending.get((entity, external_id)) or session.exec(select(WebhookVersion).where(
            WebhookVersion.store_id == store_id, WebhookVersion.connector == connector,
            WebhookVersion.entity == entity, WebhookVersion.external_id == external_id)).first()
        newest = version.modified_at if version is not None else None
        if isinstance(record, OrderRecord):
            stored = session.exec(select(Order.updated_at).where(
                Order.store_id == store_id, Order.source == connector, Order.external_id == record.external_id)).first()
            if stored is not None and (newest is None or stored > newest):
                newest = stored
        if newest is not None and moment < newest:
            older += 1
            continue
        kept.append(record)
        if version is None:
            version = WebhookVersion(store_id=store_id, connector=connector, entity=entity,
                                     external_id=external_id, modified_at=moment)
        elif moment > version.modified_at:
            version.modified_at = moment
        session.add(version)
        pending[(entity, external_id)] = version
    return kept, older
