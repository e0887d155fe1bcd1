"""CORS_ORIGINS on a real server: off by default; on, what streaming clients need is let through."""

from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import serve
from tests.support.settings import make_settings

ORIGIN = "https://app.example.com"
REQUESTED = "authorization, {% if cookiecutter.format_sse %}last-event-id, {% endif %}range, if-range"


def listed(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}


@pytest.fixture(scope="module")
def cors_url(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings.model_copy(update={"cors_origins": ORIGIN}))) as url:
        yield url


def test_cors_is_off_by_default(client: httpx.Client) -> None:
    response = client.get("/healthz", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_lets_the_streaming_request_headers_through(cors_url: str) -> None:
    response = httpx.options(
        f"{cors_url}/healthz",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": REQUESTED,
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = listed(response.headers["access-control-allow-headers"])
    assert listed(REQUESTED) <= allowed


def test_a_response_exposes_the_headers_streaming_clients_read(cors_url: str) -> None:
    response = httpx.get(f"{cors_url}/healthz", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = listed(response.headers["access-control-expose-headers"])
    assert {"content-disposition", "content-range", "etag", "x-request-id"} <= exposed


def test_another_origin_is_not_allowed(cors_url: str) -> None:
    response = httpx.get(f"{cors_url}/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("value", ["app.example.com", "https://a.example, ftp://b"])
def test_an_origin_that_is_not_one_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="expected '\\*' or origins"):
        make_settings(cors_origins=value)
