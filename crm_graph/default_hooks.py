"""The core's own hook implementations, registered as a default plugin through the same hooks."""

from __future__ import annotations

from crm_graph.hookspecs import hookimpl


@hookimpl(trylast=True)
def acquisition_channel_for_order(order):
    """The channel the connector read from the platform (order source, UTM, referrer), if any."""
    return order.channel
