"""The closed vocabularies of the data model (stored as strings, exposed as GraphQL enums)."""

from enum import StrEnum


class Gender(StrEnum):
    """A customer's gender; UNKNOWN was never given, REFUSED was declined."""

    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"
    REFUSED = "REFUSED"


class Channel(StrEnum):
    """A marketing consent channel."""

    EMAIL = "EMAIL"
    SMS = "SMS"


class ConsentState(StrEnum):
    """The state a consent event records (Shopify's vocabulary)."""

    SUBSCRIBED = "SUBSCRIBED"
    PENDING = "PENDING"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    NOT_SUBSCRIBED = "NOT_SUBSCRIBED"
    INVALID = "INVALID"
    REDACTED = "REDACTED"


class ConsentBucket(StrEnum):
    """The three buckets the dashboard shows (docs/metrics.md, “Who is counted”, Consent)."""

    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    UNKNOWN = "UNKNOWN"


#: Which dashboard bucket each consent state falls in; no event at all is UNKNOWN too.
#: REDACTED (the platform erased the record) is not a choice of the customer, so it counts as UNKNOWN.
CONSENT_BUCKET_OF_STATE: dict[ConsentState, ConsentBucket] = {
    ConsentState.SUBSCRIBED: ConsentBucket.SUBSCRIBED,
    ConsentState.UNSUBSCRIBED: ConsentBucket.UNSUBSCRIBED,
    ConsentState.INVALID: ConsentBucket.UNSUBSCRIBED,
    ConsentState.NOT_SUBSCRIBED: ConsentBucket.UNKNOWN,
    ConsentState.PENDING: ConsentBucket.UNKNOWN,
    ConsentState.REDACTED: ConsentBucket.UNKNOWN,
}


class OptInLevel(StrEnum):
    """How the consent was confirmed."""

    SINGLE_OPT_IN = "SINGLE_OPT_IN"
    CONFIRMED_OPT_IN = "CONFIRMED_OPT_IN"
    UNKNOWN = "UNKNOWN"


class OrderStatus(StrEnum):
    """A normalised order status; the platform's own is kept in `Order.raw_status`."""

    PENDING = "PENDING"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


#: A counted order is paid, completed, or paid and later refunded (docs/metrics.md, “Who is counted”, Order).
COUNTED_ORDER_STATUSES: tuple[str, ...] = (
    OrderStatus.PAID.value,
    OrderStatus.COMPLETED.value,
    OrderStatus.REFUNDED.value,
)


class ActivityKind(StrEnum):
    """What a customer did; every kind moves `last_activity_at`."""

    VISIT = "VISIT"
    PAGE_VIEW = "PAGE_VIEW"
    EMAIL_OPEN = "EMAIL_OPEN"
    EMAIL_CLICK = "EMAIL_CLICK"
    ORDER = "ORDER"


class JobStatus(StrEnum):
    """The life of a background job."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Role(StrEnum):
    """What an API key may do: read < write < admin."""

    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"


class RfmScheme(StrEnum):
    """The RFM scoring scheme of a store (docs/metrics.md, “RFM grid”)."""

    QUINTILE = "QUINTILE"
    EDRONE = "EDRONE"
