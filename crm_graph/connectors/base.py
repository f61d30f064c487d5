"""The connector contract: typed settings, streams, pages with cursors, and inbound webhooks.

A connector plugin returns `Connector` subclasses from the `register_connectors` hook. The core
creates one with the store's validated settings, asks it for its `streams()`, and for each stream
calls `read(stream, cursor, run_started_at)`, which yields `Page`s. The core commits a page's records
and the page's cursor in one transaction, so a cursor never gets ahead of the data (see
`crm_graph.services.sync`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from crm_graph.connectors.records import DeletionRecord, Record, RecordError


class ConnectorSettings(BaseModel):
    """Base class of a connector's configuration: validated, extra keys refused.

    Declare secrets as `pydantic.SecretStr`: they print as ``**********``, are left out of
    `public_dict()` (what GraphQL and logs may show), and are read with ``.get_secret_value()``.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: The fields holding an address the connector sends requests to; the core checks them against
    #: the connector address policy when the settings are saved (`crm_graph.connectors.egress`).
    url_fields: ClassVar[tuple[str, ...]] = ()

    def public_dict(self) -> dict[str, Any]:
        """The settings without any secret, safe to log and to return through the API."""
        return {
            name: value
            for name, value in self.model_dump(mode="json").items()
            if not _is_secret(type(self).model_fields[name].annotation)
        }

    def stored_dict(self) -> dict[str, Any]:
        """The settings as stored in the database, secrets included."""
        out = self.model_dump(mode="json")
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = value.get_secret_value()
        return out

    @classmethod
    def secret_fields(cls) -> list[str]:
        """Names of the fields that hold secrets."""
        return [name for name, info in cls.model_fields.items() if _is_secret(info.annotation)]


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return SecretStr in getattr(annotation, "__args__", ())


#: The most streams a connector may read (each keeps one cursor, which the API lists per connector).
MAX_STREAMS = 20


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of data a connector reads: `incremental` streams keep a cursor, others are full scans."""

    name: str
    incremental: bool = True
    description: str = ""


@dataclass(slots=True)
class Page:
    """A batch of records, and the cursor to store once they are committed (None: leave it).

    `errors` are records the connector could not normalise; they are reported, not dropped.

    Progress (optional; a connector that sets neither still syncs, its bar just has no total):
    `total` is how many items the stream is expected to yield in this read (from its cursor to the
    run's start), when the platform says (WooCommerce's ``X-WP-Total``, Shopify's count queries);
    the latest page that gives one wins, so a connector may correct it as it learns more. `items`
    is how many of those items this page covers, in the same unit as `total`: the platform's
    resources, which can differ from the records (a customer may bring consent records too). It
    defaults to the page's records plus errors.
    """

    records: list[Record]
    cursor: str | None = None
    errors: list[RecordError] = field(default_factory=list)
    total: int | None = None
    items: int | None = None

    def progress_items(self) -> int:
        """How far this page moves the stream's progress (`items`, else records plus errors)."""
        return self.items if self.items is not None else len(self.records) + len(self.errors)


class WebhookRejected(Exception):
    """An inbound webhook failed verification (bad or missing signature, unknown topic)."""


class WebhookMalformed(WebhookRejected):
    """An inbound webhook whose body cannot be read (not JSON, not the payload its topic has); the
    endpoint answers 400 instead of the 401 of a failed signature.

    The platforms sign the body only, not the topic header: a connector checks that the body is
    what the topic says (a deletion carries only the deleted id; a creation or update carries the
    whole resource) and raises this when it is not, so a genuine body replayed under another topic
    is refused."""


class WebhookStale(WebhookRejected):
    """A verified webhook older than the age limit (a replay, or a delivery too late to trust)."""


@dataclass(slots=True)
class WebhookEvent:
    """A verified inbound webhook: its topic, the platform's delivery id (if any), parsed body, send time.

    `modified_at` is the resource's modification time read from the (signed) body, when it has one;
    `triggered_at` is the send time from a header, which the signature does not cover, so it may
    only make a delivery look older, never fresher (see `crm_graph.services.webhooks`).
    """

    topic: str
    delivery_id: str | None
    payload: Any
    triggered_at: datetime | None = None
    modified_at: datetime | None = None


class Connector(ABC):
    """A source of records for one store; subclasses are registered through `register_connectors`.

    Class attributes: `name` (the entry in ``connector_config.connector`` and the records' `source`),
    `title`, `settings_model`. An instance holds the store's settings and, usually, an HTTP client;
    `close()` releases it.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    #: How far back an incremental read starts before the stored cursor (clock skew, late commits).
    overlap: ClassVar[timedelta] = timedelta(minutes=5)

    def __init__(self, settings: ConnectorSettings) -> None:
        self.settings = settings

    @abstractmethod
    def streams(self) -> list[Stream]:
        """The streams to read, in order (customers before orders, so that orders find their buyers)."""

    @abstractmethod
    def read(self, stream: Stream, cursor: str | None, *, run_started_at: datetime) -> Iterator[Page]:
        """Yield pages of `stream` from `cursor` (None: from the beginning) up to `run_started_at`."""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check an inbound webhook's signature and parse it; raise `WebhookRejected` when it fails."""
        raise WebhookRejected(f"connector {self.name!r} takes no webhooks")

    def records_from_webhook(self, event: WebhookEvent) -> list[Record]:
        """The records a verified webhook carries (empty for topics the connector ignores)."""
        return []

    def confirm_deletion(self, record: DeletionRecord) -> bool:
        """Whether the platform says the record a deletion webhook names is gone (404, trashed).

        A deletion webhook is a notification, not an order: the signature does not cover the topic,
        so the core deletes only what the platform confirms. A connector that cannot ask answers
        False, and its deletions arrive with the next sync instead.
        """
        return False

    def close(self) -> None:
        """Release what the connector holds (HTTP connections)."""


def window_start(cursor: str | None, overlap: timedelta) -> datetime | None:
    """Where an incremental read starts: the stored cursor minus `overlap`, or None (everything)."""
    if not cursor:
        return None
    return parse_cursor(cursor) - overlap


def parse_cursor(cursor: str) -> datetime:
    """A stored time cursor as an aware UTC datetime."""
    moment = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_cursor(moment: datetime) -> str:
    """A UTC datetime as the text stored in a cursor (ISO 8601 with ``+00:00``)."""
    return moment.astimezone(timezone.utc).isoformat()
