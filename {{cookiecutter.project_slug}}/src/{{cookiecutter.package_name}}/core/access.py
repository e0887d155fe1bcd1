"""Who may read: API_TOKENS, bearer tokens every streaming route asks for once any is set.

Off by default, so a fresh checkout just runs. With API_TOKENS set (one or
more, comma-separated, for rotation), each streaming route depends on `reader`:
a request without `Authorization: Bearer <one of them>` is a `401`.

Some clients cannot send headers. For those a route may also take a
short-lived signed token in the query string (`?access_token=`), made by
`sign` for that route's purpose alone (`signed_reader(purpose)`): it expires
after the seconds it was made for, and a token made for one purpose opens
nothing else. The log masks it like every `token` parameter.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Final

from fastapi import HTTPException, Request, status
from pydantic import SecretStr

# The query parameter a signed token travels in.
SIGNED_PARAMETER: Final = "access_token"
DENIED: Final = "send a token of API_TOKENS as 'Authorization: Bearer <token>'"
# What a protected route's OpenAPI entry says of that 401.
UNAUTHORIZED: Final = "API_TOKENS is set, and the request carries none of them."


class Access:
    """The tokens that open the streaming routes, and the key signed tokens are made with."""

    def __init__(self, tokens: SecretStr | None) -> None:
        listed = tokens.get_secret_value().split(",") if tokens else []
        self._tokens = [token.strip().encode() for token in listed]
        # Signed tokens are keyed by the first API token: rotating it ends them too.
        first = self._tokens[0] if self._tokens else secrets.token_bytes(32)
        self._key = hmac.digest(first, b"signed stream tokens", hashlib.sha256)

    @property
    def required(self) -> bool:
        """Whether a token is needed at all."""
        return bool(self._tokens)

    def bearer(self, request: Request) -> bool:
        """Whether the request carries one of the tokens as a bearer token."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        given = token.strip().encode()
        # Every token is compared, so the time taken tells nothing of which matched.
        matches = [hmac.compare_digest(given, known) for known in self._tokens]
        return any(matches)

    def sign(self, purpose: str, seconds: int) -> str:
        """A token for `purpose` alone, good for `seconds`."""
        expires = int(time.time()) + seconds
        return f"{expires}.{self._signature(purpose, expires)}"

    def signed(self, token: str, purpose: str) -> bool:
        """Whether `token` was made by `sign(purpose)` and has not expired."""
        expires, _, signature = token.partition(".")
        if not expires.isascii() or not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, self._signature(purpose, int(expires)))

    def _signature(self, purpose: str, expires: int) -> str:
        return hmac.new(self._key, f"{purpose}:{expires}".encode(), hashlib.sha256).hexdigest()


def _refused() -> HTTPException:
    challenge = {"WWW-Authenticate": "Bearer"}
    return HTTPException(status.HTTP_401_UNAUTHORIZED, DENIED, headers=challenge)


def access_of(request: Request) -> Access:
    """The app's `Access` (see `create_app`)."""
    access: Access = request.app.state.access
    return access


async def reader(request: Request) -> None:
    """A FastAPI dependency: let the request through if it may read (a bearer token)."""
    access = access_of(request)
    if access.required and not access.bearer(request):
        raise _refused()


def signed_reader(purpose: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency like `reader` that also takes a token `sign(purpose)` made, in the query."""

    async def check(request: Request) -> None:
        access = access_of(request)
        if not access.required or access.bearer(request):
            return
        token = request.query_params.get(SIGNED_PARAMETER)
        if token is None or not access.signed(token, purpose):
            raise _refused()

    return check
