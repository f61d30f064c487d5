"""A store's connector registrations: register (validate and store settings), list, look up.

Settings are validated by the connector's own `settings_model`, and the addresses in its
`url_fields` by the connector address policy (`crm_graph.connectors.egress`); what the API and the
logs see is `public_settings` (no secrets). Registering again replaces the settings of that connector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from crm_graph.connectors.egress import EgressPolicy, EgressRefused, check_url, current_policy
from crm_graph.errors import NotFound, UserError
from crm_graph.models import ConnectorConfig, Store, SyncCursor
from crm_graph.models.types import utcnow
from crm_graph.plugins import MAX_CONNECTORS
from crm_graph.services.customers.errors import FieldError


class FieldNotFound(NotFound):
    """A connector that is not installed or not registered; `field` names the argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ConnectorInfo:
    """An installed connector: its name, title, streams, and settings (names and which are secret)."""

    name: str
    title: str
    settings_schema: dict[str, Any]
    secret_fields: tuple[str, ...]


def installed_connectors() -> list[ConnectorInfo]:
    """Every connector the installed plugins provide."""
    from crm_graph.plugins import connector_classes

    return [ConnectorInfo(name=cls.name, title=cls.title or cls.name, settings_schema=cls.settings_model.model_json_schema(),
                          secret_fields=tuple(cls.settings_model.secret_fields()))
            for cls in sorted(connector_classes().values(), key=lambda cls: cls.name)]


def validate_settings(connector: str, settings: dict[str, Any], *, egress: EgressPolicy | None = None):
    """The connector's validated settings model, or a UserError naming the bad field.

    The addresses of the model's `url_fields` must be allowed by `egress` (default: this process's
    policy); DNS is asked here too, and again on every connection (`EgressTransport`).
    """
    cls = connector_class(connector)
    try:
        model = cls.settings_model.model_validate(settings)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(["settings", *(str(part) for part in problem["loc"])])
        raise FieldError(where, f"`{where}`: {problem['msg']}.") from None
    policy = egress or current_policy()
    for name in cls.settings_model.url_fields:
        value = getattr(model, name, None)
        if value is None:
            continue
        try:
            check_url(str(value), policy)
        except EgressRefused as exc:
            raise FieldError(f"settings.{name}", f"`settings.{name}`: {exc}.") from None
    return model


def register_connector(session: Session, store: Store, connector: str, settings: dict[str, Any],
                       *, enabled: bool = True, egress: EgressPolicy | None = None) -> ConnectorConfig:
    """Register (or re-configure) `connector` for the store with validated `settings` (see
    `validate_settings`; `egress` is the address policy, default this process's). A store has at
    most `MAX_CONNECTORS` registrations, so the API can list them all at once."""
    row = session.exec(select(ConnectorConfig).where(
        ConnectorConfig.store_id == store.id, ConnectorConfig.connector == connector)).first()
    if row is None:
        registered = session.exec(
            select(func.count()).select_from(ConnectorConfig).where(ConnectorConfig.store_id == store.id)).one()
        if registered >= MAX_CONNECTORS:
            raise FieldError("connector", f"The store already has {MAX_CONNECTORS} connectors registered.")
    model = validate_settings(connector, settings, egress=egress)
    if row is None:
        row = ConnectorConfig(store_id=store.id, connector=connector)
    row.config = model.stored_dict()
    row.enabled = enabled
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def list_connectors(session: Session, store: Store) -> list[ConnectorConfig]:
    """The store's connector registrations by connector name (at most `MAX_CONNECTORS`)."""
    return list(session.exec(select(ConnectorConfig).where(ConnectorConfig.store_id == store.id)
                             .order_by(ConnectorConfig.connector)))


def connectors_by_id(session: Session, store: Store, config_ids: Sequence[int]) -> dict[int, ConnectorConfig]:
    """The store's registrations among `config_ids`, by id (other stores' registrations are left out)."""
    rows = session.exec(select(ConnectorConfig).where(
        ConnectorConfig.store_id == store.id, ConnectorConfig.id.in_(list(config_ids))))
    return {row.id: row for row in rows}


def connector_class(connector: str):
    """The installed connector class named `connector`, or a `NotFound` naming the `connector` argument."""
    from crm_graph.plugins import get_connector_class

    try:
        return get_connector_class(connector)
    except UserError as exc:
        if exc.code != "NOT_FOUND":
            raise
        raise FieldNotFound("connector", str(exc)) from None


def get_connector_config(session: Session, store: Store, connector: str) -> ConnectorConfig:
    """The store's registration of `connector`, or NotFound."""
    row = session.exec(select(ConnectorConfig).where(
        ConnectorConfig.store_id == store.id, ConnectorConfig.connector == connector)).first()
    if row is None:
        raise FieldNotFound("connector", f"`connector`: {connector!r} is not registered for store {store.slug!r}.")
    return row


def public_settings(config: ConnectorConfig) -> dict[str, Any]:
    """The registration's settings without secrets (safe for the API and logs)."""
    from crm_graph.plugins import connector_classes

    cls = connector_classes().get(config.connector)
    if cls is None:
        return {}
    secret = set(cls.settings_model.secret_fields())
    return {key: value for key, value in config.config.items() if key not in secret}


def cursors(session: Session, store: Store, config: ConnectorConfig) -> list[SyncCursor]:
    """Where each stream of the registration stands."""
    return list(session.exec(select(SyncCursor).where(
        SyncCursor.store_id == store.id, SyncCursor.connector_id == config.id).order_by(SyncCursor.stream)))
