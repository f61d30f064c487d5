"""The one customer filter (docs/customers.md, “The filter”), compiled to SQL.

The customer list, its facets, saved segments, bulk mutations and exports all take a
`CustomerFilter`. It is a pydantic model, so a saved segment stores it as JSON
(`filter.model_dump(mode="json")`) and reads it back with `CustomerFilter.model_validate`.

`filtered_customer_ids(store, filter)` turns it into a `SELECT customer.id ...` that callers use
as a subquery (`Customer.id.in_(...)`, `INSERT ... SELECT`, `COUNT(*)`); `customer_conditions`
gives the bare WHERE conditions on `Customer` for queries that select from the customer table
anyway. Nothing here loads customers into Python.

Rules:
- Every condition is ANDed; a list inside one condition is ORed (`countries=["PL", "DE"]`).
- Erased customers never match.
- Date bounds are local days of the store's timezone, both inclusive.
- `search` is a case-insensitive prefix match on email, phone, first name, last name,
  "first last", an external id (or a whole CRM ID `source:external`), or the exact internal id.
  LIKE metacharacters in it are escaped, so `%` and `_` match themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import ColumnElement, Select, case, func, or_, select, union
from sqlalchemy.orm import aliased

from crm_graph.connectors.normalise import MAX_AMOUNT
from crm_graph.errors import NotFound, UserError
from crm_graph.models import Customer, CustomerIdentity, CustomerTag, Order, OrderLine, Store, Tag
from crm_graph.models.enums import (
    CONSENT_BUCKET_OF_STATE, COUNTED_ORDER_STATUSES, Channel, ConsentBucket, ConsentState, Gender,
)

if TYPE_CHECKING:
    from sqlmodel import Session

#: The most values one list condition (countries, tags, products...) may hold.
MAX_LIST = 1000
#: The longest search string.
MAX_SEARCH = 200
#: How deep saved segments may refer to other saved segments.
MAX_SEGMENT_DEPTH = 5

_ESCAPE = "\\"
_CENT = Decimal("0.01")


def _within_years(value: date) -> date:
    from crm_graph.services.dates import MAX_YEAR, MIN_YEAR

    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"{value.isoformat()} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    return value


def _amount(value: Decimal) -> Decimal:
    if abs(value) >= MAX_AMOUNT:
        raise ValueError("an amount has at most 16 digits before the point")
    return value.quantize(_CENT)


#: A day of a filter: refused outside the years every date input accepts (day arithmetic stays safe).
Day = Annotated[date, AfterValidator(_within_years)]
#: An amount of a filter: finite (pydantic refuses NaN and infinity), under 10^16 like the amount
#: columns, rounded to cents (an exponent such as 1e-999999 is not sent to the database).
Amount = Annotated[Decimal, AfterValidator(_amount)]


class RevenueBand(StrEnum):
    """A customer's place in the store's revenue (Putler's "revenue contribution" facet).

    Customers are ranked by lifetime net revenue, largest first. TOP are those who together bring
    the first 80% of the store's revenue, MIDDLE the next 15%, BOTTOM the last 5%, NONE have no
    positive net revenue. A customer whose revenue equals a band's smallest value is in that band.
    """

    TOP = "TOP"
    MIDDLE = "MIDDLE"
    BOTTOM = "BOTTOM"
    NONE = "NONE"


class ValueSegment(StrEnum):
    """Spender segment by lifetime net revenue (docs/metrics.md, widget G): below the low percentile, to the high one, above."""

    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    BIG = "BIG"


class FrequencySegment(StrEnum):
    """Spender segment by counted orders (docs/metrics.md, widget G): 1, 2 to below the frequent threshold, at least it."""

    ONE_TIME = "ONE_TIME"
    REPEAT = "REPEAT"
    FREQUENT = "FREQUENT"


#: Cumulative revenue share where each band ends.
REVENUE_BAND_SHARES = {RevenueBand.TOP: Decimal("0.80"), RevenueBand.MIDDLE: Decimal("0.95")}


class RfmCell(BaseModel):
    """One cell of the RFM grid: a recency score and an FM score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(ge=1, le=5)
    fm: int = Field(ge=1, le=5)


class RfmFilter(BaseModel):
    """Customers in RFM segments or cells of the grid computed over a range (docs/metrics.md, “RFM grid”).

    The range is `preset` (kept relative, so a saved segment moves with the days) or `first_day`..
    `last_day`; neither: LAST_30_DAYS. `scheme` defaults to the store's. Segments and cells are ORed
    within themselves; giving both means both must hold. Neither: every customer of the grid.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    scheme: str | None = None
    segments: list[str] | None = None
    cells: list[RfmCell] | None = None

    @model_validator(mode="after")
    def _valid(self) -> RfmFilter:
        from crm_graph.models.enums import RfmScheme
        from crm_graph.services.analytics.rfm import RfmSegment
        from crm_graph.services.dates import DatePreset

        if (self.first_day is None) != (self.last_day is None):
            raise ValueError("give both firstDay and lastDay, or neither")
        if self.preset is not None and self.first_day is not None:
            raise ValueError("give either a range or a preset, not both")
        for value, kind, name in ((self.preset, DatePreset, "preset"), (self.scheme, RfmScheme, "scheme")):
            if value is not None and value not in kind.__members__:
                raise ValueError(f"{name} {value!r} is not one of {', '.join(kind.__members__)}")
        for segment in self.segments or []:
            if segment not in RfmSegment.__members__:
                raise ValueError(f"segment {segment!r} is not one of {', '.join(RfmSegment.__members__)}")
        if self.cells is not None and len(self.cells) > 25:
            raise ValueError("at most 25 cells")
        return self


class CustomerFilter(BaseModel):
    """Which customers of a store: the filter input of the customer list, segments and bulk actions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    search: str | None = Field(default=None, description="Prefix of an email, phone, name or id.")
    countries: list[str] | None = Field(default=None, description="ISO country codes; any of them.")
    cities: list[str] | None = Field(default=None, description="City names, case-insensitive; any of them.")
    product_ids: list[int] | None = Field(default=None, description="Bought any of these products (counted orders).")
    tags: list[str] | None = Field(default=None, description="Currently carries any of these tags.")
    email_consent: list[ConsentBucket] | None = Field(default=None, description="Current EMAIL consent bucket.")
    sms_consent: list[ConsentBucket] | None = Field(default=None, description="Current SMS consent bucket.")
    genders: list[Gender] | None = None
    identified: bool | None = None
    spent_min: Amount | None = Field(default=None, description="Lifetime net revenue at least this.")
    spent_max: Amount | None = Field(default=None, description="Lifetime net revenue at most this.")
    orders_min: int | None = Field(default=None, ge=0)
    orders_max: int | None = Field(default=None, ge=0)
    customer_since_from: Day | None = None
    customer_since_to: Day | None = None
    last_activity_from: Day | None = None
    last_activity_to: Day | None = None
    never_active: bool | None = Field(default=None, description="True: no activity ever; False: some activity.")
    revenue_bands: list[RevenueBand] | None = None
    p_alive_min: float | None = Field(default=None, ge=0, le=1, description="P(alive) from the CLV model at least this.")
    p_alive_max: float | None = Field(default=None, ge=0, le=1, description="P(alive) at most this ('likely to churn').")
    predicted_value_min: Amount | None = Field(default=None, description="Predicted 12-month value at least this.")
    predicted_value_max: Amount | None = Field(default=None, description="Predicted 12-month value at most this.")
    segment_id: int | None = Field(default=None, description="Also a member of this saved segment.")
    value_segments: list[ValueSegment] | None = Field(default=None, description="Spender value segment.")
    frequency_segments: list[FrequencySegment] | None = Field(default=None, description="Spender frequency segment.")
    spender_segments_as_of: Day | None = Field(
        default=None, description="Local day the spender segments are computed at (default: the store's today)."
    )
    rfm: RfmFilter | None = Field(default=None, description="RFM segments or cells over a range.")

    @field_validator(
        "countries", "cities", "product_ids", "tags", "email_consent", "sms_consent", "genders", "revenue_bands",
        "value_segments", "frequency_segments",
    )
    @classmethod
    def _bounded(cls, value: list | None) -> list | None:
        if value is not None and len(value) > MAX_LIST:
            raise ValueError(f"at most {MAX_LIST} values")
        return value

    @field_validator("search")
    @classmethod
    def _search(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if len(value) > MAX_SEARCH:
            raise ValueError(f"at most {MAX_SEARCH} characters")
        return value or None

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        codes = [code.strip().upper() for code in value]
        for code in codes:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"{code!r} is not a two-letter ISO 3166-1 country code")
        return codes

    @model_validator(mode="after")
    def _ranges(self) -> CustomerFilter:
        for low, high in (
            ("spent_min", "spent_max"), ("orders_min", "orders_max"),
            ("customer_since_from", "customer_since_to"), ("last_activity_from", "last_activity_to"),
            ("p_alive_min", "p_alive_max"), ("predicted_value_min", "predicted_value_max"),
        ):
            if getattr(self, low) is not None and getattr(self, high) is not None and getattr(self, low) > getattr(self, high):
                raise ValueError(f"{_camel(low)} must not be greater than {_camel(high)}")
        return self

    def is_empty(self) -> bool:
        """True when the filter matches every customer of the store."""
        return not any(value is not None for value in self.model_dump().values())

    def to_json(self) -> dict[str, Any]:
        """The filter as stored in a saved segment: only the conditions that are set."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_filter(data: dict[str, Any] | None, argument: str = "filter") -> CustomerFilter:
    """A `CustomerFilter` from JSON-like data, or a `UserError` naming the argument and the field."""
    try:
        return CustomerFilter.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(_camel(str(part)) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        error = UserError(f"`{argument}{'.' + where if where else ''}`: {message}.")
        error.field = f"{argument}.{where}" if where else argument  # the input field at fault, as a path
        raise error from None


def filtered_customer_ids(store: Store, filter: CustomerFilter, *, session: Session | None = None) -> Select:
    """``SELECT customer.id`` of the store's customers that match `filter` (erased ones never do).

    `session` is needed only when the filter names a saved segment (its filter is read from the
    database and compiled in).
    """
    return select(Customer.id).where(*customer_conditions(store, filter, session=session))


def customer_conditions(
    store: Store, filter: CustomerFilter, *, session: Session | None = None, _depth: int = 0
) -> list[ColumnElement[bool]]:
    """The WHERE conditions on `Customer` that select the store's customers matching `filter`."""
    conditions: list[ColumnElement[bool]] = [Customer.store_id == store.id, Customer.erased_at.is_(None)]
    f = filter
    if f.search:
        conditions.append(_search_condition(store, f.search))
    if f.countries is not None:
        conditions.append(Customer.country.in_(f.countries))
    if f.cities is not None:
        conditions.append(func.lower(Customer.city).in_([city.strip().lower() for city in f.cities]))
    if f.product_ids is not None:
        bought = (
            select(Order.customer_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                OrderLine.store_id == store.id, OrderLine.product_id.in_(f.product_ids),
                Order.store_id == store.id, Order.status.in_(COUNTED_ORDER_STATUSES),
            )
        )
        conditions.append(Customer.id.in_(bought))
    if f.tags is not None:
        tagged = (
            select(CustomerTag.customer_id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.store_id == store.id, CustomerTag.removed_at.is_(None),
                   Tag.store_id == store.id, Tag.name.in_([name.strip() for name in f.tags]))
        )
        conditions.append(Customer.id.in_(tagged))
    if f.email_consent is not None:
        conditions.append(consent_bucket_condition(Channel.EMAIL, f.email_consent))
    if f.sms_consent is not None:
        conditions.append(consent_bucket_condition(Channel.SMS, f.sms_consent))
    if f.genders is not None:
        conditions.append(Customer.gender.in_([gender.value for gender in f.genders]))
    if f.identified is not None:
        identified = or_(Customer.email.is_not(None), Customer.phone.is_not(None), Customer.has_account.is_(True))
        conditions.append(identified if f.identified else ~identified)
    if f.spent_min is not None:
        conditions.append(Customer.total_spent >= f.spent_min)
    if f.spent_max is not None:
        conditions.append(Customer.total_spent <= f.spent_max)
    if f.orders_min is not None:
        conditions.append(Customer.orders_count >= f.orders_min)
    if f.orders_max is not None:
        conditions.append(Customer.orders_count <= f.orders_max)
    conditions += _day_bounds(store, Customer.created_at, f.customer_since_from, f.customer_since_to)
    conditions += _day_bounds(store, Customer.last_activity_at, f.last_activity_from, f.last_activity_to)
    if f.never_active is not None:
        conditions.append(Customer.last_activity_at.is_(None) if f.never_active else Customer.last_activity_at.is_not(None))
    if f.revenue_bands is not None:
        conditions.append(revenue_band_expression(store).in_([band.value for band in f.revenue_bands]))
    if f.value_segments is not None or f.frequency_segments is not None:
        conditions.append(_spender_condition(store, f))
    if f.rfm is not None:
        conditions.append(_rfm_condition(store, f.rfm))
    conditions += _clv_conditions(store, f)
    if f.segment_id is not None:
        conditions += _segment_conditions(store, f.segment_id, session, _depth)
    return conditions


def _clv_conditions(store: Store, f: CustomerFilter) -> list[ColumnElement[bool]]:
    """Conditions on the customer's prediction from the latest CLV fit (customers without one never match)."""
    from crm_graph.models import CustomerClv

    bounds = []
    if f.p_alive_min is not None:
        bounds.append(CustomerClv.p_alive >= f.p_alive_min)
    if f.p_alive_max is not None:
        bounds.append(CustomerClv.p_alive <= f.p_alive_max)
    if f.predicted_value_min is not None:
        bounds.append(CustomerClv.predicted_value >= f.predicted_value_min)
    if f.predicted_value_max is not None:
        bounds.append(CustomerClv.predicted_value <= f.predicted_value_max)
    if not bounds:
        return []
    return [Customer.id.in_(select(CustomerClv.customer_id).where(CustomerClv.store_id == store.id, *bounds))]


def consent_bucket_condition(channel: Channel, buckets: Sequence[ConsentBucket]) -> ColumnElement[bool]:
    """The customer's current consent on `channel` (its latest event) falls in one of `buckets`."""
    states = [state.value for state, bucket in CONSENT_BUCKET_OF_STATE.items() if bucket in buckets]
    column = current_consent_state(channel)
    condition = column.in_(states)
    return or_(column.is_(None), condition) if ConsentBucket.UNKNOWN in buckets else condition


def current_consent_state(channel: Channel):
    """The customer's current consent state on `channel`: the column the consent triggers maintain."""
    return Customer.email_consent_state if channel is Channel.EMAIL else Customer.sms_consent_state


def consent_bucket_of(state: str | None) -> ConsentBucket:
    """The dashboard bucket of a consent state (None = no event)."""
    return ConsentBucket.UNKNOWN if state is None else CONSENT_BUCKET_OF_STATE[ConsentState(state)]


def revenue_band_expression(store: Store) -> ColumnElement[str]:
    """CASE expression giving each customer's `RevenueBand` (store-wide thresholds, one subquery each)."""
    thresholds = {band: _band_threshold(store, share) for band, share in REVENUE_BAND_SHARES.items()}
    return case(
        (Customer.total_spent <= 0, RevenueBand.NONE.value),
        (Customer.total_spent >= func.coalesce(thresholds[RevenueBand.TOP], 0), RevenueBand.TOP.value),
        (Customer.total_spent >= func.coalesce(thresholds[RevenueBand.MIDDLE], 0), RevenueBand.MIDDLE.value),
        else_=RevenueBand.BOTTOM.value,
    )


def _band_threshold(store: Store, share: Decimal):
    """The smallest lifetime revenue among the customers who bring the first `share` of revenue."""
    spender = aliased(Customer)
    running = func.sum(spender.total_spent).over(order_by=(spender.total_spent.desc(), spender.id))
    ranked = (
        select(
            spender.total_spent.label("spent"),
            (running - spender.total_spent).label("before"),
            func.sum(spender.total_spent).over().label("grand"),
        )
        .where(spender.store_id == store.id, spender.erased_at.is_(None), spender.total_spent > 0)
        .subquery()
    )
    return select(func.min(ranked.c.spent)).where(ranked.c.before < ranked.c.grand * share).scalar_subquery()


def _spender_condition(store: Store, f: CustomerFilter) -> ColumnElement[bool]:
    """Spenders in the given value and/or frequency segments as of the end of a local day."""
    from crm_graph.services.analytics.spenders import spender_segments_query
    from crm_graph.services.dates import store_today

    day = f.spender_segments_as_of or store_today(store)
    segments = spender_segments_query(store, day).subquery("spender_segments")
    wanted = []
    if f.value_segments is not None:
        wanted.append(segments.c.value_segment.in_([segment.value for segment in f.value_segments]))
    if f.frequency_segments is not None:
        wanted.append(segments.c.frequency_segment.in_([segment.value for segment in f.frequency_segments]))
    return Customer.id.in_(select(segments.c.customer_id).where(*wanted))


def _rfm_condition(store: Store, rfm: RfmFilter) -> ColumnElement[bool]:
    """Customers of the RFM grid over the filter's range, in its segments or cells (analytics' `rfm_scores`)."""
    from sqlalchemy import and_

    from crm_graph.models.enums import RfmScheme
    from crm_graph.services.analytics.rfm import RfmSegment, in_segment, rfm_scores
    from crm_graph.services.dates import DateRange, resolve_range

    date_range = DateRange(rfm.first_day, rfm.last_day) if rfm.first_day is not None else None
    resolved = resolve_range(store, date_range, rfm.preset)
    scheme = RfmScheme(rfm.scheme) if rfm.scheme else store.analytics_settings.rfm_scheme
    scores = rfm_scores(store, resolved, scheme).subquery("rfm_scores")
    wanted = []
    if rfm.segments is not None:
        wanted.append(or_(*[in_segment(scores, scheme, RfmSegment(name)) for name in rfm.segments]))
    if rfm.cells is not None:
        wanted.append(or_(*[and_(scores.c.r_score == cell.r, scores.c.fm_score == cell.fm) for cell in rfm.cells]))
    return Customer.id.in_(select(scores.c.customer_id).where(*wanted))


def escape_like(text: str) -> str:
    """`text` with LIKE's metacharacters escaped (the escape character is a backslash)."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _prefix(column, prefix: str) -> ColumnElement[bool]:
    return column.like(escape_like(prefix) + "%", escape=_ESCAPE)


def _search_condition(store: Store, raw: str) -> ColumnElement[bool]:
    """Customers whose email, phone, name or id starts with `raw` (case-insensitive).

    Each branch is a separate indexed look-up, joined by UNION, so PostgreSQL never scans the table.
    """
    text = raw.lower()
    base = (Customer.store_id == store.id,)
    branches = [
        select(Customer.id).where(*base, _prefix(func.lower(Customer.email), text)),
        select(Customer.id).where(*base, _prefix(func.lower(Customer.first_name), text)),
        select(Customer.id).where(*base, _prefix(func.lower(Customer.last_name), text)),
    ]
    words = text.split()
    if len(words) >= 2:
        head, rest = words[0], " ".join(words[1:])
        for first, last in ((Customer.first_name, Customer.last_name), (Customer.last_name, Customer.first_name)):
            branches.append(select(Customer.id).where(*base, func.lower(first) == head, _prefix(func.lower(last), rest)))
    digits = re.sub(r"[\s().\-/]", "", text)
    if re.fullmatch(r"\+?\d{2,}", digits):
        branches.append(select(Customer.id).where(*base, _prefix(Customer.phone, digits)))
        if not digits.startswith("+"):
            branches.append(select(Customer.id).where(*base, _prefix(Customer.phone, "+" + digits)))
    if re.fullmatch(r"[0-9]{1,18}", text):
        branches.append(select(Customer.id).where(*base, Customer.id == int(text)))
    identity = (CustomerIdentity.store_id == store.id,)
    branches.append(select(CustomerIdentity.customer_id).where(*identity, _prefix(func.lower(CustomerIdentity.external_id), text)))
    source, sep, external = text.partition(":")
    if sep and source and external:
        branches.append(
            select(CustomerIdentity.customer_id).where(
                *identity, CustomerIdentity.source == source, _prefix(func.lower(CustomerIdentity.external_id), external)
            )
        )
    return Customer.id.in_(union(*branches))


def local_day_start(store: Store, day: date) -> datetime:
    """The UTC instant at which local day `day` of the store begins."""
    return datetime.combine(day, time.min, tzinfo=store.tz).astimezone(timezone.utc)


def _day_bounds(store: Store, column, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    conditions = []
    if first is not None:
        conditions.append(column >= local_day_start(store, first))
    if last is not None:
        conditions.append(column < local_day_start(store, last + timedelta(days=1)))
    return conditions


def _segment_conditions(store: Store, segment_id: int, session: Session | None, depth: int) -> list[ColumnElement[bool]]:
    from crm_graph.models import Segment

    if session is None:
        raise UserError("`filter.segmentId` can only be used where the filter is read with a database session.")
    if depth >= MAX_SEGMENT_DEPTH:
        raise UserError(f"`filter.segmentId`: saved segments refer to each other more than {MAX_SEGMENT_DEPTH} deep (or in a loop).")
    segment = session.get(Segment, segment_id)
    if segment is None or segment.store_id != store.id:
        error = NotFound("`filter.segmentId`: the store has no segment with that id.")
        error.field = "filter.segmentId"  # the input field at fault, as a path
        raise error
    saved = CustomerFilter.model_validate(segment.filter or {})
    return customer_conditions(store, saved, session=session, _depth=depth + 1)[2:]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = [
    "CustomerFilter", "FrequencySegment", "RevenueBand", "ValueSegment", "consent_bucket_condition", "consent_bucket_of", "current_consent_state",
    "customer_conditions", "escape_like", "filtered_customer_ids", "local_day_start", "parse_filter",
    "revenue_band_expression",
]
