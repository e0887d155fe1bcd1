{%- set rows = cookiecutter.__rows -%}
"""API_TOKENS: off by default; once set, every streaming route wants one of them."""

import secrets
{%- if cookiecutter.format_sse %}
import time
{%- endif %}
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.package_name }}.app import create_app
{%- if cookiecutter.format_sse %}
from {{ cookiecutter.package_name }}.core.access import Access
from {{ cookiecutter.package_name }}.events.router import STREAM_PURPOSE
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import serve
from tests.support.settings import make_settings

TOKENS = [secrets.token_urlsafe(24), secrets.token_urlsafe(24)]
{%- if rows or cookiecutter.format_file or cookiecutter.format_relay %}
# A GET of each streaming route; what comes after the check (a 404, a 502) does not matter.
PROTECTED = [
{%- if rows %}
    "/items.{{ 'csv' if cookiecutter.format_csv else ('jsonl' if cookiecutter.format_jsonl else 'json') }}?limit=1",
{%- endif %}
{%- if cookiecutter.format_file %}
    "/files/missing.txt",
{%- endif %}
{%- if cookiecutter.format_relay %}
    "/relay/anything",
{%- endif %}
]
{%- endif %}


@pytest.fixture(scope="module")
def guarded(settings: Settings) -> Iterator[str]:
    changes: dict[str, object] = {"api_tokens": SecretStr(",".join(TOKENS))}
{%- if cookiecutter.format_sse %}
    changes["stream_token_seconds"] = 60
{%- endif %}
    with serve(create_app(settings.model_copy(update=changes))) as url:
        yield url


def status(url: str, path: str, token: str | None = None, method: str = "GET") -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.stream(method, url + path, headers=headers, timeout=10) as response:
        return response.status_code
{%- if rows or cookiecutter.format_file or cookiecutter.format_relay %}


@pytest.mark.parametrize("path", PROTECTED)
def test_a_streaming_route_wants_a_token_once_they_are_set(guarded: str, path: str) -> None:
    refused = httpx.get(guarded + path, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert status(guarded, path, token=secrets.token_urlsafe(24)) == 401
    for token in TOKENS:  # either token of a rotation opens it
        assert status(guarded, path, token=token) != 401


@pytest.mark.parametrize("path", PROTECTED)
def test_without_tokens_the_routes_are_open(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code != 401
{%- endif %}


def test_health_metrics_and_docs_stay_open(guarded: str) -> None:
    for path in ("/healthz", "/metrics", "/docs", "/openapi.json"):
        assert httpx.get(guarded + path).status_code == 200, path


# Ids without the random token: the same test ids in every run, for --lf and the CI's reports.
@pytest.mark.parametrize("tokens", ["short", f"{TOKENS[0]},short"], ids=["short", "long,short"])
def test_a_short_token_is_refused_at_start(tokens: str) -> None:
    with pytest.raises(ValidationError, match="16 characters or more"):
        make_settings(api_tokens=tokens)
{%- if cookiecutter.format_sse %}


def test_the_event_stream_takes_a_bearer_token_or_a_signed_one_in_the_query(guarded: str) -> None:
    assert status(guarded, "/events") == 401
    assert status(guarded, "/events", token=TOKENS[1]) == 200
    # What a browser does: get a token with its credentials, then open an EventSource.
    assert httpx.post(f"{guarded}/events/token").status_code == 401
    issued = httpx.post(
        f"{guarded}/events/token", headers={"Authorization": f"Bearer {TOKENS[0]}"}
    ).json()
    assert issued["expires_in"] == 60
    assert status(guarded, f"/events?access_token={issued['access_token']}") == 200
    forged = issued["access_token"][:-1] + ("0" if issued["access_token"][-1] != "0" else "1")
    assert status(guarded, f"/events?access_token={forged}") == 401
{%- if rows or cookiecutter.format_file or cookiecutter.format_relay %}
    # Made for the event stream, it opens nothing else.
    for path in PROTECTED:
        separator = "&" if "?" in path else "?"
        assert status(guarded, f"{path}{separator}access_token={issued['access_token']}") == 401
{%- endif %}


def test_an_expired_stream_token_is_refused(guarded: str) -> None:
    # Signed with the server's key, but already expired.
    expired = Access(SecretStr(",".join(TOKENS))).sign(STREAM_PURPOSE, seconds=-1)
    assert int(expired.partition(".")[0]) < time.time()
    assert status(guarded, f"/events?access_token={expired}") == 401
{%- endif %}
