"""The connector contract: what a connector plugin implements and the records it yields."""

from crm_graph.connectors.base import (
    Connector,
    ConnectorSettings,
    Page,
    Stream,
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    WebhookStale,
    format_cursor,
    parse_cursor,
    window_start,
)
from crm_graph.connectors.records import (
    ActivityRecord,
    ConsentRecord,
    CustomerRecord,
    CustomerRef,
    DeletionRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    Record,
    RecordError,
    RefundRecord,
    SpendRecord,
    TagRecord,
)

__all__ = [
    "ActivityRecord", "ConsentRecord", "Connector", "ConnectorSettings", "CustomerRecord", "CustomerRef",
    "DeletionRecord", "OrderLineRecord", "OrderRecord", "Page", "ProductRecord", "Record", "RecordError",
    "RefundRecord", "SpendRecord", "Stream", "TagRecord", "WebhookEvent", "WebhookMalformed", "WebhookRejected",
    "WebhookStale", "format_cursor", "parse_cursor", "window_start",
]
