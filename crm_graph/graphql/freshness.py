"""The `Freshness` of an analytics answer: when its figures were computed and from what (GraphQL view).

One shape across the schema (dashboard and its widgets, rfmGrid, periodKpis, lifecycle fields); the
figures' freshness comes from the analytics services (`services.analytics.freshness`). Its fields
read nothing, so they cost nothing.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm_graph.services.analytics import freshness

FreshnessSource = strawberry.enum(
    freshness.FreshnessSource,
    description=(
        "Where an answer's figures came from: STORED (rows the workers precomputed, or a CLV fit's "
        "predictions), BROUGHT_FORWARD (the newest stored day plus what changed since, computed at "
        "`computedAt`), LIVE (computed at `computedAt` from the raw data)."
    ),
)


@strawberry.type(
    name="Freshness",
    description=(
        "How fresh an answer is. Stored figures are used only while no change they depend on has been "
        "committed since (docs/analytics.md), so an old `computedAt` of a STORED answer is still exact. An "
        "answer of the API's result cache (`cached`) keeps the `computedAt` of when it was computed; it is "
        "at most CRM_GRAPH_DASHBOARD_CACHE_SECONDS old."
    ),
)
class FreshnessType:
    computed_at: datetime = strawberry.field(
        description="When the figures were computed: the stored rows' computation or the CLV fit for STORED, "
        "otherwise the start of the computation that answered."
    )
    source: FreshnessSource = strawberry.field(description="STORED, BROUGHT_FORWARD or LIVE.")
    from_stored_rows: bool = strawberry.field(description="Whether stored rows were read (STORED or BROUGHT_FORWARD).")
    cached: bool = strawberry.field(
        description="Whether this answer was computed for an earlier request and served again from this API "
        "process's result cache (within CRM_GRAPH_DASHBOARD_CACHE_SECONDS of its computation)."
    )

    @classmethod
    def from_model(cls, fresh: freshness.Freshness, asked_at: datetime | None = None) -> FreshnessType:
        """The GraphQL view; `asked_at` (when the request began) tells a cached answer: made before it."""
        return cls(computed_at=fresh.computed_at, source=fresh.source, from_stored_rows=fresh.from_stored_rows,
                   cached=asked_at is not None and fresh.answered_at < asked_at)


FRESHNESS_DESCRIPTION = "When the figures were computed and whether from stored rows (reads nothing more)."
