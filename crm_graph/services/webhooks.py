"""Inbound platform webhooks: verify, then apply once.

`receive_webhook` is what the HTTP endpoint calls: it checks the signature with the connector's
settings and answers fast. `apply_webhook` is what a worker (or, without workers, the endpoint
itself) calls: it records the delivery id and ingests the records in one transaction, so a delivery
received twice is applied once. `handle_webhook` returns the records a delivery carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from crm_graph.connectors.base import WebhookEvent, WebhookRejected
from crm_graph.connectors.records import Record
from crm_graph.errors import NotFound
from crm_graph.models import ConnectorConfig, Store, WebhookDelivery
from crm_graph.services.ingest import IngestResult, ingest_records
from crm_graph.services.sync import load_connector

__all__ = ["WebhookOutcome", "WebhookRejected", "apply_webhook", "handle_webhook", "receive_webhook"]


@dataclass
class WebhookOutcome:
    """What applying a delivery did: `duplicate` when its id was applied before."""

    topic: str
    delivery_id: str | None
    duplicate: bool
    result: IngestResult | None


def _config(session: Session, store_id: int, connector: str) -> ConnectorConfig:
    config = session.exec(select(ConnectorConfig).where(
        ConnectorConfig.store_id == store_id, ConnectorConfig.connector == connector,
        ConnectorConfig.enabled.is_(True))).first()
    if config is None:
        raise NotFound(f"connector {connector!r} is not registered for this store")
    return config


def receive_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                    body: bytes) -> WebhookEvent:
    """Verify a delivery's signature; raises `WebhookRejected` (or NotFound) when it must be refused."""
    with Session(engine) as session:
        config = _config(session, store_id, connector)
        instance = load_connector(session, config)
    try:
        return instance.verify_webhook(headers, body)
    finally:
        instance.close()


def handle_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                   body: bytes) -> list[Record]:
    """The records a (verified) delivery carries."""
    with Session(engine) as session:
        instance = load_connector(session, _config(session, store_id, connector))
    try:
        return instance.records_from_webhook(instance.verify_webhook(headers, body))
    finally:
        instance.close()


def apply_webhook(engine: Engine, connector: str, store_id: int, headers: Mapping[str, str],
                  body: bytes) -> WebhookOutcome:
    """Verify and apply a delivery once (deduplicated on the platform's delivery id)."""
    with Session(engine, expire_on_commit=False) as session:
        store = session.get(Store, store_id)
        instance = load_connector(session, _config(session, store_id, connector))
        try:
            event = instance.verify_webhook(headers, body)
            records = instance.records_from_webhook(event)
        finally:
            instance.close()
        if event.delivery_id:
            seen = session.exec(select(WebhookDelivery.id).where(
                WebhookDelivery.store_id == store_id, WebhookDelivery.connector == connector,
                WebhookDelivery.delivery_id == event.delivery_id)).first()
            if seen is not None:
                return WebhookOutcome(event.topic, event.delivery_id, True, None)
            session.add(WebhookDelivery(store_id=store_id, connector=connector, delivery_id=event.delivery_id[:255],
                                        topic=event.topic[:128]))
        result = ingest_records(session, store, records, source=connector)
        try:
            session.commit()
        except IntegrityError:  # the same delivery applied concurrently
            session.rollback()
            return WebhookOutcome(event.topic, event.delivery_id, True, None)
    return WebhookOutcome(event.topic, event.delivery_id, False, result)
