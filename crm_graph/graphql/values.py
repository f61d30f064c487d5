"""Values with a unit: money with its currency, and a figure compared with the previous period.

Money is `Money { amount currencyCode }`, never a bare decimal: a client formats it without
guessing the currency. Amounts of orders are in the order's currency; every sum, average and
threshold across orders is in the store's currency (`Store.currencyCode`).

Every KPI card and period figure is compared the same way (`Comparison`): `value`, `previous`,
`change = value − previous` and `relativeChange = change / previous`. One rounding rule holds for
all of them: money and other amounts to 2 places (half up), shares to 4 places, and
`relativeChange` (a fraction: 0.125 is +12.5 %) to 4 places; `change` is computed from the rounded
values, so `value − previous = change` exactly as shown. `relativeChange` is null when `previous`
is 0 or null; `change` is null when either value is null (a figure undefined by a division by 0).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import strawberry

from crm_graph.services.analytics.period import iso_duration

_CENT = Decimal("0.01")
_SHARE = Decimal("0.0001")

_VALUE = "In the range (or on the day) asked about; null when undefined (÷ 0)."
_PREVIOUS = "In the previous period of the same length just before (or on the day compared with); null when undefined."
_CHANGE = "value − previous; null when either is null."
_RELATIVE = "change / previous as a fraction (0.125 is +12.5 %), rounded to 4 places; null when previous is 0 or null."


def round_amount(value: Any) -> Decimal | None:
    """An amount (money or an average) rounded half up to 2 places."""
    return None if value is None else Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def round_share(value: Any) -> float | None:
    """A share between 0 and 1 rounded half up to 4 places."""
    return None if value is None else float(Decimal(value).quantize(_SHARE, rounding=ROUND_HALF_UP))


def relative_change(value: Any, previous: Any) -> float | None:
    """(value − previous) / previous rounded half up to 4 places; None when previous is 0 or either is None."""
    if value is None or previous is None or not previous:
        return None
    return float(((Decimal(value) - Decimal(previous)) / Decimal(previous)).quantize(_SHARE, rounding=ROUND_HALF_UP))


def _difference(value: Any, previous: Any) -> Any:
    return None if value is None or previous is None else value - previous


@strawberry.type(name="Money", description="An amount of money with its currency.")
class MoneyType:
    amount: Decimal = strawberry.field(description="The amount, as a decimal string (2 places), e.g. \"1249.90\".")
    currency_code: str = strawberry.field(description="ISO 4217 code of the currency, e.g. EUR.")


def money(amount: Any, currency: str) -> MoneyType:
    """`amount` (rounded to 2 places) in `currency`."""
    return MoneyType(amount=round_amount(amount), currency_code=currency)


def optional_money(amount: Any, currency: str) -> MoneyType | None:
    """`money(amount, currency)`, or None when the amount is undefined."""
    return None if amount is None else money(amount, currency)


@strawberry.interface(
    name="Comparison",
    description="A figure compared with the previous period (or an earlier day): the same four fields and one "
    "rounding rule everywhere; the implementing type says what `value` is (a count, money, a share, a duration).",
)
class ComparisonType:
    relative_change: float | None = strawberry.field(description=_RELATIVE)


@strawberry.type(name="CountComparison", description="A count compared with the previous period.")
class CountComparisonType(ComparisonType):
    value: int = strawberry.field(description="In the range (or on the day) asked about.")
    previous: int = strawberry.field(description="In the previous period of the same length just before (or on the day compared with).")
    change: int = strawberry.field(description="value − previous.")

    @classmethod
    def of(cls, value: int, previous: int) -> CountComparisonType:
        return cls(value=value, previous=previous, change=value - previous, relative_change=relative_change(value, previous))


@strawberry.type(name="DecimalComparison",
                 description="An amount that is not money (e.g. orders per customer), 2 places, compared with the previous period.")
class DecimalComparisonType(ComparisonType):
    value: Decimal | None = strawberry.field(description=_VALUE)
    previous: Decimal | None = strawberry.field(description=_PREVIOUS)
    change: Decimal | None = strawberry.field(description=_CHANGE)

    @classmethod
    def of(cls, value: Any, previous: Any) -> DecimalComparisonType:
        value, previous = round_amount(value), round_amount(previous)
        return cls(value=value, previous=previous, change=_difference(value, previous),
                   relative_change=relative_change(value, previous))


@strawberry.type(name="MoneyComparison", description="Money in the store currency compared with the previous period.")
class MoneyComparisonType(ComparisonType):
    value: MoneyType | None = strawberry.field(description=_VALUE)
    previous: MoneyType | None = strawberry.field(description=_PREVIOUS)
    change: MoneyType | None = strawberry.field(description=_CHANGE)

    @classmethod
    def of(cls, value: Any, previous: Any, currency: str) -> MoneyComparisonType:
        value, previous = round_amount(value), round_amount(previous)
        return cls(value=optional_money(value, currency), previous=optional_money(previous, currency),
                   change=optional_money(_difference(value, previous), currency),
                   relative_change=relative_change(value, previous))


@strawberry.type(name="ShareComparison", description="A share between 0 and 1 (4 places) compared with the previous period.")
class ShareComparisonType(ComparisonType):
    value: float | None = strawberry.field(description=_VALUE)
    previous: float | None = strawberry.field(description=_PREVIOUS)
    change: float | None = strawberry.field(description=_CHANGE)

    @classmethod
    def of(cls, value: Any, previous: Any) -> ShareComparisonType:
        value_d = None if value is None else Decimal(value).quantize(_SHARE, rounding=ROUND_HALF_UP)
        previous_d = None if previous is None else Decimal(previous).quantize(_SHARE, rounding=ROUND_HALF_UP)
        difference = _difference(value_d, previous_d)
        return cls(value=None if value_d is None else float(value_d),
                   previous=None if previous_d is None else float(previous_d),
                   change=None if difference is None else float(difference),
                   relative_change=relative_change(value_d, previous_d))


@strawberry.type(name="DurationComparison",
                 description="A duration in whole seconds compared with the previous period, with ISO 8601 forms to show.")
class DurationComparisonType(ComparisonType):
    value: int | None = strawberry.field(description="In whole seconds; " + _VALUE[0].lower() + _VALUE[1:])
    previous: int | None = strawberry.field(description="In whole seconds; " + _PREVIOUS[0].lower() + _PREVIOUS[1:])
    change: int | None = strawberry.field(description="value − previous, in seconds; null when either is null.")
    value_iso: str | None = strawberry.field(description="`value` as an ISO 8601 duration, e.g. `P7DT18H`.")
    previous_iso: str | None = strawberry.field(description="`previous` as an ISO 8601 duration.")

    @classmethod
    def of(cls, value: int | None, previous: int | None) -> DurationComparisonType:
        return cls(value=value, previous=previous, change=_difference(value, previous),
                   relative_change=relative_change(value, previous), value_iso=iso_duration(value),
                   previous_iso=iso_duration(previous))


__all__ = [
    "ComparisonType", "CountComparisonType", "DecimalComparisonType", "DurationComparisonType", "MoneyComparisonType",
    "MoneyType", "ShareComparisonType", "money", "optional_money", "relative_change", "round_amount", "round_share",
]
