"""The web pages the app serves: the reference dashboard at `/`, its files under `/assets/`, and the
GraphiQL page of `/graphql` (outside production).

Everything they load ships in the package (`static/`, with the third-party bundles under
`static/vendor/`, see scripts/vendor_assets.py): no page needs any network beyond this server. Each
page sets its own Content-Security-Policy, which allows only this origin and no inline script; the
API's other responses keep the deny-all policy of `crm_graph.middleware.SecurityHeaders`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"

#: The dashboard: scripts, styles, data and fetches only from this origin. Charts are SVG built with
#: the DOM (their dynamic styles set through CSSOM, which a CSP does not restrict).
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: GraphiQL: the same (its editor and popovers set their styles through CSSOM too, so no inline style
#: is needed), except that its bundled fonts are data: URLs.
GRAPHIQL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

#: Our own files may change with every release: the browser revalidates them (ETag). Vendored files
#: have the version in their path and never change.
_OWN_CACHE = b"no-cache"
_VENDOR_CACHE = b"public, max-age=31536000, immutable"


@lru_cache(maxsize=None)
def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def dashboard_html(production: bool) -> str:
    """The dashboard's HTML; production is named in it so that the page asks for a key at once."""
    return _page("index.html").replace("{{mode}}", "production" if production else "development")


def graphiql_html() -> str:
    """The GraphiQL page on the vendored bundles."""
    return _page("graphiql.html")


def page_response(html: str, csp: str) -> Response:
    """An HTML page with its CSP, revalidated on every load (it names the current asset files)."""
    return HTMLResponse(html, headers={"content-security-policy": csp, "cache-control": "no-cache"})


class _Assets:
    """`StaticFiles` on `static/`, with the cache policy of `_OWN_CACHE` / `_VENDOR_CACHE`."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=STATIC)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = _VENDOR_CACHE if "/vendor/" in scope.get("path", "") else _OWN_CACHE

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers") or [] if name != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", cache)]}
            await send(message)

        await self.files(scope, receive, send_with_cache)


def routes(production: bool) -> list:
    """The dashboard at `/` and `/index.html`, and the files under `/assets/`."""

    async def dashboard(_request: Request) -> Response:
        return page_response(dashboard_html(production), DASHBOARD_CSP)

    return [
        Route("/", dashboard, methods=["GET", "HEAD"]),
        Mount("/assets", app=_Assets(), name="assets"),
    ]
