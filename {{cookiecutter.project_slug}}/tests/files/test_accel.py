"""FILES_ACCEL_REDIRECT behind the real nginx: the service decides, nginx sends the bytes.

Two replicas behind nginx with the shipped config, its internal /_files/
location pointed at the replicas' FILES_DIR. Skipped without nginx (a failure
under REQUIRE_SERVICES=1).
"""

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import Proxied, long_lived_client, replicas_behind_nginx

pytestmark = pytest.mark.services

DATA = os.urandom(300_000)
NAME = "Café menu 東京.bin"
STREAM_LOG = "{{ cookiecutter.package_name }}.core.stream_log"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("accel-files")
    (root / "reports").mkdir()
    (root / "reports" / NAME).write_bytes(DATA)
    (root / ".hidden").write_bytes(b"never served")
    return root


@pytest.fixture(scope="module")
def proxied(
    settings: Settings, root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    accel = settings.model_copy(update={"files_dir": root, "files_accel_redirect": "/_files/"})
    apps = [create_app(accel), create_app(accel)]
    with replicas_behind_nginx(apps, tmp_path_factory.mktemp("nginx"), files_root=root) as found:
        yield found


@pytest.fixture(scope="module")
def http(proxied: Proxied) -> Iterator[httpx.Client]:
    with long_lived_client(proxied.url) as client:
        yield client


PATH = "/files/reports/Caf%C3%A9%20menu%20%E6%9D%B1%E4%BA%AC.bin"


def test_nginx_sends_the_file_the_service_chose_under_the_name_it_gave(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=STREAM_LOG)
    response = http.get(PATH, headers={"X-Request-ID": "accel-whole"})
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"]
    assert response.headers["last-modified"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Cafe menu __.bin"')
    assert unquote(disposition.partition("filename*=UTF-8''")[2]) == NAME
    assert "x-accel-redirect" not in response.headers
    # The service answered with no body: the bytes came from nginx.
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().endswith("accel-whole")]
    assert " 200 complete 0 B " in line


def test_ranges_if_range_and_304_are_nginxs(http: httpx.Client) -> None:
    etag = http.get(PATH).headers["etag"]
    ranged = http.get(PATH, headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes 1000-1999/{len(DATA)}"
    assert ranged.content == DATA[1000:2000]
    current = http.get(PATH, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert current.status_code == 206
    assert current.content == DATA[10:20]
    stale = http.get(PATH, headers={"Range": "bytes=10-19", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == DATA
    assert http.get(PATH, headers={"If-None-Match": etag}).status_code == 304


def test_the_service_still_decides_what_may_be_served(http: httpx.Client) -> None:
    for path in ("/files/.hidden", "/files/reports/missing.bin", "/files/reports/..%2f.hidden"):
        assert http.get(path).status_code == 404, path
    # The internal location is nginx's alone: no client reaches it.
    assert http.get("/_files/reports/" + NAME).status_code == 404
