"""What the relay sends upstream and what it passes back: the URL and the headers.

Both header lists are allowlists, so a header nobody thought about is dropped
rather than leaked. Hop-by-hop headers (Connection, Keep-Alive, TE, Trailer,
Transfer-Encoding, Upgrade, Proxy-*) are on neither list: each connection sets
its own. Edit the lists here to forward more.
"""

from collections.abc import Iterable
from typing import Annotated, Final
from urllib.parse import quote, quote_from_bytes

import httpx
from pydantic import AfterValidator, HttpUrl

# Content negotiation, ranges and cache validators. The client's Authorization
# and Cookie are credentials for this service, not for the upstream.
REQUEST_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "range",
    }
)
# What describes the body and how it may be cached. Not Set-Cookie, Server or
# Location (an upstream address that means nothing to this service's clients).
RESPONSE_HEADERS: Final = frozenset(
    {
        "accept-ranges",
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-length",
        "content-range",
        "content-type",
        "etag",
        "expires",
        "last-modified",
        "retry-after",
        "vary",
    }
)
# Documents a browser would render, scripts and all, as a page of this
# service's origin: relayed as plain text instead (see `response_headers`).
ACTIVE_TYPES: Final = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
)
# Whatever the type, a relayed document may run nothing and reach nothing.
SANDBOX: Final = "sandbox; default-src 'none'"
# RFC 3986 characters that may stand unescaped in a path, and in a query ("%"
# too: the query is passed on with its escapes as the client wrote them).
_PATH_SAFE: Final = "/!$&'()*+,;=:@-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?%"


def _base_only(url: HttpUrl) -> HttpUrl:
    if url.query is not None or url.fragment is not None:
        msg = "expected no query or fragment: each relayed request brings its own"
        raise ValueError(msg)
    return url


UpstreamUrl = Annotated[HttpUrl, AfterValidator(_base_only)]


def target(base: httpx.URL, path: str, query: bytes) -> httpx.URL | None:
    """`base`/`path`?`query`; None when `path` has a dot segment or a backslash.

    `path` arrives percent-decoded, so `%2e%2e` is `..` by now. Refusing such
    segments keeps every request under the base path: httpx would otherwise
    resolve `..` and step out of it.
    """
    segments = path.split("/")
    if any(segment in {".", ".."} or "\\" in segment for segment in segments):
        return None
    raw = base.raw_path.rstrip(b"/") + b"/" + quote(path, safe=_PATH_SAFE).encode("ascii")
    if query:
        raw += b"?" + quote_from_bytes(query, safe=_QUERY_SAFE).encode("ascii")
    return base.copy_with(raw_path=raw)


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Headers that a Connection header names as hop-by-hop for this hop alone."""
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }


def pick(headers: Iterable[tuple[str, str]], allowed: frozenset[str]) -> dict[str, str]:
    """The `allowed` headers, repeated ones joined by commas, less any Connection names."""
    pairs = list(headers)
    dropped = _connection_tokens(pairs)
    picked: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in allowed and key not in dropped:
            picked[key] = f"{picked[key]}, {value}" if key in picked else value
    return picked


def response_headers(upstream: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for the client, from the upstream's.

    The upstream's pages must not become this service's: an HTML, SVG or XML
    type is replaced by `text/plain` (its charset kept), and every response
    carries a Content-Security-Policy that sandboxes it.
    """
    headers = pick(upstream, RESPONSE_HEADERS)
    media_type, _, parameters = headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    if media_type in ACTIVE_TYPES or media_type.endswith("+xml"):
        headers["content-type"] = "text/plain" + (f";{parameters}" if parameters else "")
    headers["content-security-policy"] = SANDBOX
    return headers


def request_headers(client: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for the upstream request, from the client's.

    The body is passed on undecoded, so the upstream may only encode it in a way
    the client accepts: without an Accept-Encoding from the client the upstream
    is asked for identity, not for httpx's default list.
    """
    headers = pick(client, REQUEST_HEADERS)
    headers.setdefault("accept-encoding", "identity")
    return headers
