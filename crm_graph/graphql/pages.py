"""Connections over keyset pages of the services (`crm_graph.services.keyset`): jobs, segments, API keys."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.relay import PageInfoType, PageRequest, page_request
from crm_graph.services.keyset import KeysetPage
from crm_graph.settings import get_settings

#: The Relay page arguments, with their descriptions.
First = Annotated[int | None, strawberry.argument(description="Page forward: this many objects (1 to the server limit).")]
After = Annotated[str | None, strawberry.argument(description="Page forward: the objects after this cursor (`endCursor`).")]
Last = Annotated[int | None, strawberry.argument(description="Page backward: this many objects (1 to the server limit).")]
Before = Annotated[str | None, strawberry.argument(description="Page backward: the objects before this cursor (`startCursor`).")]


def requested_page(first: int | None, after: str | None, last: int | None, before: str | None, *,
                   default: int) -> PageRequest:
    """The page the Relay arguments ask for, up to the server's page size limit."""
    return page_request(first, after, last, before, default=default, max_size=get_settings().max_page_size)


def page_info(page: KeysetPage) -> PageInfoType:
    """The `PageInfo` of a keyset page."""
    return PageInfoType(
        has_next_page=page.has_next_page, has_previous_page=page.has_previous_page,
        start_cursor=page.cursors[0] if page.cursors else None, end_cursor=page.cursors[-1] if page.cursors else None,
    )
