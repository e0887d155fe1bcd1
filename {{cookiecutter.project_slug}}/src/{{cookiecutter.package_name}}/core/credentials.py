"""One masker for every URL the service takes, so no password reaches a log, a reply or a report.

Everything that shows a URL (settings' reprs, start-up and error lines,
/healthz, the benchmark's report) goes through `mask`; every request's query
string that is logged goes through `mask_query`. It works on text that
is not a valid URL too, because a refused setting is shown with it; when a URL
is ambiguous it masks more, never less.
"""

import re
from typing import Final
from urllib.parse import unquote_plus

from pydantic import SecretStr

HIDDEN: Final = "***"
{%- if cookiecutter.__rows %}
# libpq's URLs name a user before a lone `@`; in any other scheme (https://token@host)
# a lone name there is as good as a password.
_USER_SCHEMES: Final = frozenset({"postgres", "postgresql"})
{%- endif %}
# A password given as a query parameter (libpq takes one): ...?password=secret&sslmode=require
_PASSWORD_PARAMETER: Final = re.compile(r"(?i)([?&]password=)[^&#]*")
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
# Query parameters whose values are secrets, by name: `?token=...`, `?api_key=...`,
# `?X-Amz-Signature=...`. A name that merely contains one of these words is masked
# too: masking more is the safe side.
_SECRET_NAME: Final = re.compile(r"(?i)token|key|secret|passw|sig|auth|session|credential|code")


def mask(url: str) -> str:
    """`url` with its password, a lone secret before `@` and any `password=` value as `***`."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    # The last `@` ends the user information: a password may hold `/`, `?` or `#`
    # unescaped in a refused value, and masking up to the last `@` never shows it.
    userinfo, at, location = rest.rpartition("@")
    location = _PASSWORD_PARAMETER.sub(rf"\1{HIDDEN}", location)
    if not at:
        return f"{scheme}://{location}"
    user, colon, _ = userinfo.partition(":")
{%- if cookiecutter.__rows %}
    if colon:
        shown = f"{user}:{HIDDEN}"
    elif scheme.lower() in _USER_SCHEMES:
        shown = userinfo
    else:
        shown = HIDDEN
{%- else %}
    # A lone name before `@` (https://token@host) is as good as a password.
    shown = f"{user}:{HIDDEN}" if colon else HIDDEN
{%- endif %}
    return f"{scheme}://{shown}@{location}"


def mask_query(query: bytes) -> str:
    """A raw query string, as text fit for a log line, with the values of secret names `***`."""
    shown = []
    for pair in query.decode("ascii", "backslashreplace").split("&"):
        name, equals, _ = pair.partition("=")
        secret = bool(equals) and _SECRET_NAME.search(unquote_plus(name)) is not None
        shown.append(f"{name}={HIDDEN}" if secret else pair)
    return "&".join(shown)


def mask_text(text: str) -> str:
    """`text` with every URL in it masked: for messages that may quote one."""
    return _URL.sub(lambda found: mask(found.group()), text)


class SecretUrl(SecretStr):
    """A URL setting kept secret: `repr` and `str` show it masked, never whole."""

    def _display(self) -> str:
        return mask(self.get_secret_value())
