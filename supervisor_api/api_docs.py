"""The interactive API docs at /docs, served entirely by the API: Swagger UI's built files are
vendored under static/vendor/swagger-ui (npm's swagger-ui-dist, see its VERSION file), so the page
works on a network without internet access. FastAPI's default /docs and /redoc (which load
Swagger UI and ReDoc from a CDN) are disabled in create_app; this module adds the local one."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

VENDOR = "/static/vendor/swagger-ui"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    """Add GET /docs (Swagger UI from local files) and its OAuth2 redirect page."""

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – docs",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect():
        return get_swagger_ui_oauth2_redirect_html()
