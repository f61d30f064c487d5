"""The core's own hook implementations, registered as a default plugin through the same hooks."""

from __future__ import annotations

from crm_graph.hookspecs import hookimpl


@hookimpl(trylast=True)
def acquisition_channel_for_order(order):
    """The channel the connector read from the platform (order source, UTM, referrer), if any."""
    return order.channel


@hookimpl
def register_metrics():
    """The built-in analytics figures: the dashboard, the RFM grid, the period KPIs and the lifecycle fields."""
    from crm_graph.services.analytics.metrics import BUILTIN_METRICS

    return list(BUILTIN_METRICS)
