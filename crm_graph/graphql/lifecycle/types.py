"""GraphQL types of lifecycle and marketing analytics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.graphql.relay import NodeType, global_id
from crm_graph.graphql.values import MoneyType, money, optional_money
from crm_graph.models import ClvModel, CustomerClv
from crm_graph.services.lifecycle import channels, clv, cohorts, products, rhythm, stages

LifecycleStage = strawberry.enum(
    stages.LifecycleStage,
    description=(
        "Where a buyer is in their life with the store: NEW (first order in the last 30 days), "
        "REACTIVATED (ordered again after having churned), CHURNED, AT_RISK, ACTIVE. Rules and "
        "settings: docs/metrics.md."
    ),
)
ClvModelStatus = strawberry.enum(
    clv.ClvStatus,
    description=(
        "Outcome of a CLV fit: READY (parameters usable), NOT_ENOUGH_HISTORY (too little data for the "
        "models to mean anything; `reason` says what is missing), FAILED (the fit did not converge)."
    ),
)
ProductSort = strawberry.enum(products.ProductSort, description="What product popularity ranks by.")


@strawberry.type(name="BgNbdParameters", description="BG/NBD parameters: purchase rate λ ~ Gamma(r, α), dropout p ~ Beta(a, b).")
class BgNbdParametersType:
    r: float = strawberry.field(description="Shape of the Gamma distribution of purchase rates.")
    alpha: float = strawberry.field(description="Scale of the Gamma distribution of purchase rates, in `timeUnitDays` days.")
    a: float = strawberry.field(description="First shape of the Beta distribution of dropout probabilities.")
    b: float = strawberry.field(description="Second shape of the Beta distribution of dropout probabilities.")


@strawberry.type(name="GammaGammaParameters", description="Gamma-Gamma parameters: order value ~ Gamma(p, ν), ν ~ Gamma(q, γ).")
class GammaGammaParametersType:
    p: float = strawberry.field(description="Shape of a customer's order-value distribution.")
    q: float = strawberry.field(description="Shape of the distribution of ν across customers.")
    gamma: float = strawberry.field(description="Scale of the distribution of ν across customers, in the store currency.")
    population_mean: MoneyType | None = strawberry.field(
        description="Expected order value of a customer without repeat orders, γp/(q−1), in the store currency; "
        "null when q ≤ 1."
    )


@strawberry.type(name="ClvModel", description="A fit of the store's predicted-CLV models (BG/NBD and Gamma-Gamma).")
class ClvModelType(NodeType):
    status: ClvModelStatus = strawberry.field(description="Whether the parameters are usable.")
    reason: str | None = strawberry.field(description="Why the status is not READY, or a note on the spend model.")
    fitted_at: datetime = strawberry.field(description="When the fit ran.")
    cutoff: date = strawberry.field(description="The last local day whose orders the fit saw.")
    customers: int = strawberry.field(description="Buyers the fit saw.")
    repeat_customers: int = strawberry.field(description="Buyers with more than one order day.")
    time_unit_days: int = strawberry.field(description="The time unit of the BG/NBD parameters, in days (7 = weeks).")
    horizon_days: int = strawberry.field(description="How far ahead the per-customer predictions look, in days.")
    duration_ms: int = strawberry.field(description="How long the fit took, in milliseconds.")
    bgnbd: BgNbdParametersType | None = strawberry.field(description="BG/NBD parameters; null unless READY.")
    gamma_gamma: GammaGammaParametersType | None = strawberry.field(
        description="Gamma-Gamma parameters; null unless READY and the spend model could be fitted."
    )

    freshness: FreshnessType = strawberry.field(description="STORED, computed at `fittedAt`: the predictions of this fit.")

    @classmethod
    def from_model(cls, model: ClvModel, freshness: FreshnessType, currency: str) -> ClvModelType:
        """The GraphQL view of a fit; its population mean is in `currency` (the store's)."""
        bg = model.bgnbd_params
        gg = model.gamma_gamma_params
        spend = None
        if gg:
            mean = gg["gamma"] * gg["p"] / (gg["q"] - 1) if gg["q"] > 1 else None
            spend = GammaGammaParametersType(
                p=gg["p"], q=gg["q"], gamma=gg["gamma"],
                population_mean=None if mean is None else money(Decimal(f"{mean:.2f}"), currency),
            )
        return cls(
            id=global_id("ClvModel", model.id), status=clv.ClvStatus(model.status), reason=model.reason,
            fitted_at=model.fitted_at, cutoff=model.cutoff, customers=model.n_customers,
            repeat_customers=model.n_repeat_customers, time_unit_days=model.time_unit_days,
            horizon_days=model.horizon_days, duration_ms=model.duration_ms,
            bgnbd=BgNbdParametersType(r=bg["r"], alpha=bg["alpha"], a=bg["a"], b=bg["b"]) if bg else None,
            gamma_gamma=spend,
            freshness=freshness,
        )


@strawberry.type(name="CustomerClv", description="A customer's predicted lifetime value from the store's latest READY fit.")
class CustomerClvType:
    expected_orders_12_months: float = strawberry.field(
        name="expectedOrders12Months",
        description="Expected order days in the next 365 days after the fit's cut-off (BG/NBD).",
    )
    p_alive: float = strawberry.field(description="Probability that the customer is still a customer (BG/NBD), 0–1.")
    frequency: int = strawberry.field(description="Order days after the first, up to the cut-off (the model's x).")
    recency_days: int = strawberry.field(description="Days from the first to the last order day (t_x).")
    age_days: int = strawberry.field(description="Days from the first order day to the cut-off (T).")
    model_id: strawberry.ID = strawberry.field(description="Global id of the fit these figures come from (see `clvModel`).")
    #: The amounts of the row, in the store currency (the money fields add the store's currency code).
    expected_order_amount: strawberry.Private[Decimal | None]
    predicted_amount: strawberry.Private[Decimal | None]
    average_order_amount: strawberry.Private[Decimal | None]

    @strawberry.field(description="Expected net value of a future order day (Gamma-Gamma), in the store currency; "
                      "null when the spend model has none.")
    def expected_order_value(self, info: Info) -> MoneyType | None:
        return optional_money(self.expected_order_amount, info.context.require().currency)

    @strawberry.field(name="predictedValue12Months",
                      description="Expected orders × expected order value: predicted 365-day value, in the store "
                      "currency; null when the spend model has none.")
    def predicted_value_12_months(self, info: Info) -> MoneyType | None:
        return optional_money(self.predicted_amount, info.context.require().currency)

    @strawberry.field(description="Mean net value of the repeat order days, in the store currency; null without repeats.")
    def average_order_value(self, info: Info) -> MoneyType | None:
        return optional_money(self.average_order_amount, info.context.require().currency)

    @classmethod
    def from_model(cls, row: CustomerClv) -> CustomerClvType:
        """The GraphQL view of a prediction row."""
        return cls(
            expected_orders_12_months=row.expected_orders, p_alive=row.p_alive,
            expected_order_amount=row.expected_order_value, predicted_amount=row.predicted_value,
            frequency=row.frequency, recency_days=row.recency_days, age_days=row.age_days,
            average_order_amount=row.avg_order_value, model_id=global_id("ClvModel", row.model_id),
        )


@strawberry.type(name="LifecycleStagePoint", description="Buyers per lifecycle stage as of the end of a period.")
class LifecycleStagePointType:
    label: str = strawberry.field(description="The period: 2026-03-29, 2026-W13, 2026-03 or 2026.")
    first_day: date = strawberry.field(description="First local day of the period inside the range.")
    last_day: date = strawberry.field(description="Last local day of the period inside the range; counts are as of its end.")
    new: int = strawberry.field(description="NEW buyers.")
    active: int = strawberry.field(description="ACTIVE buyers.")
    at_risk: int = strawberry.field(description="AT_RISK buyers.")
    churned: int = strawberry.field(description="CHURNED buyers.")
    reactivated: int = strawberry.field(description="REACTIVATED buyers.")
    buyers: int = strawberry.field(description="All buyers (customers with a counted order by then).")

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, point: stages.StagePoint, freshness: FreshnessType) -> LifecycleStagePointType:
        """The GraphQL view of a point."""
        c = point.counts
        S = stages.LifecycleStage
        return cls(label=point.label, first_day=point.first_day, last_day=point.last_day, new=c[S.NEW],
                   active=c[S.ACTIVE], at_risk=c[S.AT_RISK], churned=c[S.CHURNED], reactivated=c[S.REACTIVATED],
                   buyers=point.buyers, freshness=freshness)


@strawberry.type(name="CohortCell", description="What a cohort did in one month since its first month.")
class CohortCellType:
    months_since: int = strawberry.field(description="Months after the cohort month (0 = the cohort month).")
    customers: int = strawberry.field(description="Customers of the cohort with a counted order in that month.")
    share: float = strawberry.field(description="Those customers ÷ cohort size (still buying), 0–1.")
    orders: int = strawberry.field(description="Their counted orders in that month.")
    revenue: MoneyType = strawberry.field(
        description="Net revenue of those orders (refunds by the end of the range), in the store currency."
    )


@strawberry.type(name="Cohort", description="Customers whose first counted order fell in one local month.")
class CohortType:
    month: date = strawberry.field(description="First day of the cohort month.")
    label: str = strawberry.field(description="The month as 2026-03.")
    size: int = strawberry.field(description="Customers in the cohort.")
    cells: list[CohortCellType] = strawberry.field(
        description=f"One cell per month since, up to the end of the range (at most {cohorts.MAX_COHORT_MONTHS})."
    )

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, cohort: cohorts.Cohort, freshness: FreshnessType, currency: str) -> CohortType:
        """The GraphQL view of a cohort row; revenue is in `currency` (the store's)."""
        return cls(month=cohort.month, label=f"{cohort.month.year}-{cohort.month.month:02d}", size=cohort.size,
                   cells=[CohortCellType(months_since=c.months_since, customers=c.customers, share=c.share,
                                         orders=c.orders, revenue=money(c.revenue, currency))
                          for c in cohort.cells], freshness=freshness)


@strawberry.type(name="PurchaseRhythm", description="Days between a customer's orders and how long repeat buyers stay.")
class PurchaseRhythmType:
    gaps: int = strawberry.field(description="Gaps between consecutive order days whose later day is in the range.")
    average_days_between_orders: float | None = strawberry.field(description="Mean gap in days; null without gaps.")
    median_days_between_orders: float | None = strawberry.field(description="Median gap in days; null without gaps.")
    repeat_buyers: int = strawberry.field(description="Buyers of the range with two or more order days by its end.")
    average_lifetime_days: float | None = strawberry.field(
        description="Mean days from first to last order day of those repeat buyers; null without any."
    )

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, r: rhythm.PurchaseRhythm, freshness: FreshnessType) -> PurchaseRhythmType:
        """The GraphQL view of the figures."""
        return cls(gaps=r.gaps, average_days_between_orders=r.average_days_between_orders,
                   median_days_between_orders=r.median_days_between_orders, repeat_buyers=r.repeat_buyers,
                   average_lifetime_days=r.average_lifetime_days, freshness=freshness)


@strawberry.type(name="ProductPopularity", description="A product's sales in the range (lines of counted orders).")
class ProductPopularityType:
    product_id: strawberry.ID = strawberry.field(description="Internal id of the product.")
    name: str = strawberry.field(description="Product name.")
    sku: str | None = strawberry.field(description="Stock-keeping unit.")
    category: str | None = strawberry.field(description="Product category.")
    buyers: int = strawberry.field(description="Distinct customers who bought it (guest orders add none).")
    orders: int = strawberry.field(description="Orders containing it.")
    units: int = strawberry.field(description="Units sold (sum of quantities).")
    revenue: MoneyType = strawberry.field(
        description="Sum of its line totals (order-level refunds not subtracted), in the store currency."
    )

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, row: products.ProductPopularity, freshness: FreshnessType, currency: str) -> ProductPopularityType:
        """The GraphQL view of a row; revenue is in `currency` (the store's)."""
        return cls(product_id=strawberry.ID(str(row.product_id)), name=row.name, sku=row.sku, category=row.category,
                   buyers=row.buyers, orders=row.orders, units=row.units, revenue=money(row.revenue, currency),
                   freshness=freshness)


@strawberry.type(name="ProductPair", description="Two products bought in the same orders of the range.")
class ProductPairType:
    product_a_id: strawberry.ID = strawberry.field(description="Internal id of the first product (the lower id).")
    product_a_name: str = strawberry.field(description="Name of the first product.")
    product_b_id: strawberry.ID = strawberry.field(description="Internal id of the second product.")
    product_b_name: str = strawberry.field(description="Name of the second product.")
    orders: int = strawberry.field(description="Orders containing both.")
    orders_with_a: int = strawberry.field(description="Orders containing the first product.")
    orders_with_b: int = strawberry.field(description="Orders containing the second product.")
    total_orders: int = strawberry.field(description="Orders of the range with at least one product (N).")
    support: float = strawberry.field(description="Orders with both ÷ N.")
    confidence_a_to_b: float = strawberry.field(name="confidenceAToB", description="Orders with both ÷ orders with A.")
    confidence_b_to_a: float = strawberry.field(name="confidenceBToA", description="Orders with both ÷ orders with B.")
    lift: float = strawberry.field(description="Support ÷ (support of A × support of B); above 1 = bought together more than by chance.")

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, row: products.ProductPair, freshness: FreshnessType) -> ProductPairType:
        """The GraphQL view of a pair."""
        return cls(product_a_id=strawberry.ID(str(row.product_a_id)), product_a_name=row.product_a_name,
                   product_b_id=strawberry.ID(str(row.product_b_id)), product_b_name=row.product_b_name,
                   orders=row.orders, orders_with_a=row.orders_with_a, orders_with_b=row.orders_with_b,
                   total_orders=row.total_orders, support=row.support, confidence_a_to_b=row.confidence_a_to_b,
                   confidence_b_to_a=row.confidence_b_to_a, lift=row.lift, freshness=freshness)


@strawberry.type(name="AcquisitionChannel",
                 description="What an acquisition channel brought in the range and what it cost; money is in the store currency.")
class AcquisitionChannelType:
    channel: str | None = strawberry.field(description="The first-touch channel, e.g. `google / cpc`; null = not recorded.")
    new_customers: int = strawberry.field(description="Customers whose first counted order was placed in the range.")
    revenue_in_range: MoneyType = strawberry.field(description="Their net revenue from orders placed in the range.")
    revenue_to_date: MoneyType = strawberry.field(description="Their lifetime net revenue up to now.")
    repeat_customers: int = strawberry.field(description="Of them, customers with two or more counted orders to date.")
    repeat_rate: float | None = strawberry.field(description="Repeat customers ÷ new customers; null without new customers.")
    average_ltv: MoneyType | None = strawberry.field(description="Revenue to date ÷ new customers; null without new customers.")
    spend: MoneyType | None = strawberry.field(description="Marketing spend on the channel over the range; null when none was recorded.")
    cac: MoneyType | None = strawberry.field(description="Spend ÷ new customers; null when spend is missing or 0, or there are no new customers.")
    ltv_to_cac: float | None = strawberry.field(name="ltvToCac", description="Average LTV ÷ CAC; null when CAC is null.")
    roi: float | None = strawberry.field(description="(Revenue to date − spend) ÷ spend; null when spend is missing or 0.")

    freshness: FreshnessType = strawberry.field(description="When these figures were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, row: channels.AcquisitionChannel, freshness: FreshnessType, currency: str) -> AcquisitionChannelType:
        """The GraphQL view of a channel; money is in `currency` (the store's)."""
        return cls(channel=row.channel, new_customers=row.new_customers,
                   revenue_in_range=money(row.revenue_in_range, currency),
                   revenue_to_date=money(row.revenue_to_date, currency), repeat_customers=row.repeat_customers,
                   repeat_rate=row.repeat_rate, average_ltv=optional_money(row.average_ltv, currency),
                   spend=optional_money(row.spend, currency), cac=optional_money(row.cac, currency),
                   ltv_to_cac=row.ltv_to_cac, roi=row.roi, freshness=freshness)
