"""`GET /docs`: FastAPI's Swagger UI page, its scripts pinned to one version and its bytes.

FastAPI's own page loads `swagger-ui-dist@5` from a CDN: whatever 5.x the CDN
serves that day, unchecked. Here the version is exact, and each file carries
its Subresource Integrity digest (sha384 of the file in the npm package, which
the CDN serves as it is), so a browser runs nothing but those bytes. To move to
another version, take the digests from its npm package:
`npm pack swagger-ui-dist@X.Y.Z`, then `openssl dgst -sha384 -binary FILE | base64`.
"""

from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

SWAGGER_UI: Final = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
SCRIPT: Final = f"{SWAGGER_UI}/swagger-ui-bundle.js"
STYLE: Final = f"{SWAGGER_UI}/swagger-ui.css"
ICON: Final = f"{SWAGGER_UI}/favicon-32x32.png"
INTEGRITY: Final = {
    SCRIPT: "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
    STYLE: "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
}


def pinned_page(openapi_url: str, title: str) -> str:
    """FastAPI's Swagger UI page, with an integrity digest on each file it loads."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=SCRIPT,
        swagger_css_url=STYLE,
        swagger_favicon_url=ICON,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    html = bytes(page.body).decode()
    for url, digest in INTEGRITY.items():
        attribute = "src" if url == SCRIPT else "href"
        tag = f'{attribute}="{url}"'
        if html.count(tag) != 1:
            msg = f"FastAPI's docs page no longer loads {url} in one tag"
            raise RuntimeError(msg)
        html = html.replace(tag, f'{tag} integrity="{digest}" crossorigin="anonymous"')
    return html


def add_docs(app: FastAPI) -> None:
    """Serve the pinned page at /docs (the app is made with `docs_url=None`)."""
    html = pinned_page(app.openapi_url or "/openapi.json", f"{app.title} - docs")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html)
