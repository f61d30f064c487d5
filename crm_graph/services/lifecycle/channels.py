"""Acquisition channels: what each channel brought and what it cost (docs/metrics.md, “Lifecycle and marketing”).

A customer's channel is their first-touch `Customer.acquisition_channel` (null when unknown); the
customers a channel acquired in a range are those whose first counted order ever was placed in the
range (erased customers drop out). Per channel:

- new customers; their net revenue in the range (orders placed in it, refunds issued by its end)
  and to date (their lifetime net revenue now);
- repeat rate: the share of them with two or more counted orders to date;
- average LTV: revenue to date ÷ new customers;
- spend: the channel's `MarketingSpend` over the days of the range (null when none was recorded);
- CAC = spend ÷ new customers, null when there is no spend, the spend is 0, or no new customers;
- LTV / CAC = average LTV ÷ CAC (null with CAC);
- ROI = (revenue to date − spend) ÷ spend, null when there is no spend or it is 0.

Spend rows and customers meet on the exact channel name. A channel with spend but no customers is
listed too (CAC null, ROI −1 = all spend lost so far).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.services.dates import ResolvedRange
from crm_graph.services.analytics.sql import COUNTED_SQL, money, refunds_by_order_sql, sql_text, tune_for_analytics


@dataclass(frozen=True)
class AcquisitionChannel:
    """One channel's acquisitions, revenue and cost over a range."""

    channel: str | None
    new_customers: int
    revenue_in_range: Decimal
    revenue_to_date: Decimal
    repeat_customers: int
    repeat_rate: float | None
    average_ltv: Decimal | None
    spend: Decimal | None
    cac: Decimal | None
    ltv_to_cac: float | None
    roi: float | None


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if denominator == 0:
        return None
    return round(float(numerator / denominator), 6)


def acquisition_channels(session: Session, store: Store, resolved: ResolvedRange) -> list[AcquisitionChannel]:
    """Every channel with new customers or spend in the range, most new customers first."""
    tune_for_analytics(session)
    params = {"store_id": store.id, "start": resolved.start, "until": resolved.end,
              "first_day": resolved.first_day, "last_day": resolved.last_day}
    new_sql = """
        SELECT c.acquisition_channel, COUNT(*), SUM(CASE WHEN c.orders_count >= 2 THEN 1 ELSE 0 END),
               SUM(c.total_spent)
        FROM customer c
        WHERE c.store_id = :store_id AND c.erased_at IS NULL
          AND c.first_order_at >= :start AND c.first_order_at < :until
        GROUP BY c.acquisition_channel
    """
    revenue_sql = f"""
        SELECT c.acquisition_channel, SUM(o.total - COALESCE(r.refunded, 0))
        FROM orders o
        JOIN customer c ON c.id = o.customer_id
        LEFT JOIN {refunds_by_order_sql(':until')} r ON r.order_id = o.id
        WHERE o.store_id = :store_id AND c.store_id = :store_id AND c.erased_at IS NULL
          AND o.status IN ({COUNTED_SQL}) AND o.placed_at >= :start AND o.placed_at < :until
          AND c.first_order_at >= :start AND c.first_order_at < :until
        GROUP BY c.acquisition_channel
    """
    spend_sql = """
        SELECT channel, SUM(amount) FROM marketing_spend
        WHERE store_id = :store_id AND day >= :first_day AND day <= :last_day
        GROUP BY channel
    """
    acquired = {channel: (int(n), int(repeat or 0), money(to_date))
                for channel, n, repeat, to_date in session.execute(sql_text(new_sql, "start", "until"), params)}
    in_range = {channel: money(v) for channel, v in session.execute(sql_text(revenue_sql, "start", "until"), params)}
    spend = {channel: money(v) for channel, v in session.execute(sql_text(spend_sql), params)}

    result = []
    for channel in set(acquired) | set(spend):
        new, repeat, to_date = acquired.get(channel, (0, 0, money(0)))
        cost = spend.get(channel)
        cac = (cost / new).quantize(Decimal("0.01")) if cost and new else None
        average_ltv = (to_date / new).quantize(Decimal("0.01")) if new else None
        result.append(AcquisitionChannel(
            channel=channel, new_customers=new, revenue_in_range=in_range.get(channel, money(0)),
            revenue_to_date=to_date, repeat_customers=repeat,
            repeat_rate=round(repeat / new, 6) if new else None, average_ltv=average_ltv, spend=cost, cac=cac,
            ltv_to_cac=_ratio(to_date / new, cost / new) if cac is not None else None,
            roi=_ratio(to_date - cost, cost) if cost else None,
        ))
    result.sort(key=lambda row: (-row.new_customers, row.channel is None, row.channel or ""))
    return result
