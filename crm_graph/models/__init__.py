"""The data model (its meaning: docs/metrics.md, “Who is counted”): every table, imported here so that the metadata is complete."""

from crm_graph.models.base import SQLModel
from crm_graph.models.store import Store, StoreSettings
from crm_graph.models.customer import ConsentEvent, Customer, CustomerIdentity
from crm_graph.models.commerce import MarketingSpend, Order, OrderLine, Product, Refund
from crm_graph.models.activity import ActivityEvent, CustomerTag, Tag
from crm_graph.models.segment import Segment, SegmentSnapshot
from crm_graph.models.connector import ConnectorConfig, SyncCursor, WebhookDelivery, WebhookVersion
from crm_graph.models.job import Job, JobError
from crm_graph.models.aggregates import (
    AnalyticsInvalidation,
    DailyConsentCount,
    DailyConsentGenderCount,
    DailyCustomerCount,
    DailyRfmCell,
    DailySpenderThresholds,
    DailyTagCount,
)
from crm_graph.models.auth import ApiKey
from crm_graph.models.erasure import CustomerErasure, ErasedIdentity
from crm_graph.models.lifecycle import ClvModel, CustomerClv

metadata = SQLModel.metadata

__all__ = [
    "ActivityEvent", "AnalyticsInvalidation", "ApiKey", "ClvModel", "ConnectorConfig", "ConsentEvent", "Customer",
    "CustomerClv",
    "CustomerErasure", "CustomerIdentity", "CustomerTag", "DailyConsentCount", "DailyConsentGenderCount",
    "DailyCustomerCount", "DailyRfmCell", "DailySpenderThresholds", "DailyTagCount", "ErasedIdentity", "Job",
    "JobError", "MarketingSpend", "Order", "OrderLine", "Product", "Refund", "Segment", "SegmentSnapshot",
    "Store", "StoreSettings", "SyncCursor", "Tag", "WebhookDelivery", "WebhookVersion", "metadata",
]
