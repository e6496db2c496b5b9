"""The identity graph explorer: one HTML page (`GET /explorer`) and its static files.

The page is open (it holds no data); it asks for the admin token, keeps it in the tab's sessionStorage and
sends it as a bearer header to the query API, which is where the guard is. Its only library, Cytoscape.js,
comes from the npm registry at build time (`make explorer-assets`, pinned by explorer/package-lock.json) and
is served from here: nothing is loaded from a CDN at run time, and the Content-Security-Policy allows 'self'
only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.router import Router
from litestar.static_files import create_static_files_router

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
PAGE = HERE / "explorer.html"
VENDOR_FILES = (STATIC_DIR / "vendor" / "cytoscape.min.js",)

# Everything the page loads or calls is same-origin; no inline script or style, no framing, no referrer.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@cache
def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


@get("/explorer", include_in_schema=False, media_type=MediaType.HTML, sync_to_thread=False)
def explorer_page() -> Response[str]:
    """The explorer's single page (open: the data it shows comes from the guarded query API)."""
    return Response(
        _page(), media_type=MediaType.HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    )


async def _static_headers(response: Response[object]) -> Response[object]:
    response.headers.update(SECURITY_HEADERS)
    return response


def explorer_static() -> Router:
    """The page's JS, CSS and the bundled vendor library, under /explorer/static/."""
    return create_static_files_router(
        path="/explorer/static",
        directories=[STATIC_DIR],
        name="explorer-static",
        cache_control=CacheControlHeader(no_cache=True),
        after_request=_static_headers,
        include_in_schema=False,
    )


def missing_vendor_files() -> list[Path]:
    """Vendor files not built yet (`make explorer-assets`); the page says so too."""
    return [path for path in VENDOR_FILES if not path.exists()]
