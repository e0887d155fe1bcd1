"""File downloads over a real server: whole, ranged, resumed, named, and walled in."""

import os
import socket
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.files.router import (
    SAMPLE,
    SAMPLE_NAME,
    ascii_fallback,
    content_disposition,
)
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.asgi import asgi_messages
from tests.support.servers import long_lived_client, serve

SIZE = 256 * 1024
DATA = os.urandom(SIZE)
TABLE = b"id,name\r\n" + b"1,alpha\r\n" * 4000
SECRET = b"the secret outside FILES_DIR"
HIDDEN = b"HIDDEN=dotfiles are never served"
UNICODE_NAME = "Café menu 東京.txt"
QUOTED_NAME = 'say "hi"; x=1.txt'


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FILES_DIR with awkward entries, beside a secret that must never be served."""
    base = tmp_path_factory.mktemp("files")
    (base / "secret.txt").write_bytes(SECRET)
    root = base / "root"
    (root / "sub").mkdir(parents=True)
    (root / "big.bin").write_bytes(DATA)
    (root / "table.csv").write_bytes(TABLE)
    (root / "sub" / "nested.txt").write_bytes(b"nested\n")
    (root / UNICODE_NAME).write_bytes(b"menu\n")
    (root / QUOTED_NAME).write_bytes(b"hi\n")
    (root / ".env").write_bytes(HIDDEN)
    (root / "alias.txt").symlink_to("sub/nested.txt")
    (root / "escape.txt").symlink_to(base / "secret.txt")
    (root / "outside").symlink_to(base, target_is_directory=True)
    os.mkfifo(root / "pipe")
    return root


@pytest.fixture(scope="module")
def files_url(settings: Settings, root: Path) -> Iterator[str]:
    with serve(create_app(settings.model_copy(update={"files_dir": root}))) as url:
        yield url


@pytest.fixture(scope="module")
def http(files_url: str) -> Iterator[httpx.Client]:
    with long_lived_client(files_url) as client:
        yield client


def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """Status and whole response for `GET target`, sent exactly as written."""
    url = httpx.URL(base_url)
    with socket.create_connection((url.host, url.port or 80), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return int(received.split(b" ", 2)[1]), received


def unset_files_dir(settings: Settings) -> Settings:
    """The test settings as if FILES_DIR had never been set: the default, ./files."""
    values = settings.model_dump()
    del values["files_dir"]
    return Settings.model_validate(values)


def test_a_missing_files_dir_is_made_with_a_sample_on_first_start(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files_dir = tmp_path / "files"
    with serve(create_app(unset_files_dir(settings))) as url:
        response = httpx.get(f"{url}/files/{SAMPLE_NAME}", timeout=5)
    assert response.status_code == 200
    assert response.text == SAMPLE
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{SAMPLE_NAME}"'
    assert sorted(path.name for path in files_dir.iterdir()) == [SAMPLE_NAME]


def test_an_existing_files_dir_is_never_written_to(http: httpx.Client, root: Path) -> None:
    assert http.get(f"/files/{SAMPLE_NAME}").status_code == 404
    assert not (root / SAMPLE_NAME).exists()


def test_openapi_documents_get_and_head(client: httpx.Client) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/files/{name}"]
    assert set(operations) == {"get", "head"}
    assert {"200", "206", "304", "404", "416"} <= set(operations["get"]["responses"])


def test_a_whole_download_carries_its_validators(http: httpx.Client) -> None:
    response = http.get("/files/big.bin")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")
    head = http.head("/files/big.bin")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(SIZE)
    assert head.headers["etag"] == response.headers["etag"]


def test_an_interrupted_download_resumes_to_identical_bytes(http: httpx.Client) -> None:
    received = b""
    with http.stream("GET", "/files/big.bin") as response:
        etag = response.headers["etag"]
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= SIZE // 3:
                break  # the connection drops here
    assert 0 < len(received) < SIZE
    # What `curl -C -` and browsers send to resume.
    rest = http.get(
        "/files/big.bin", headers={"Range": f"bytes={len(received)}-", "If-Range": etag}
    )
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{SIZE - 1}/{SIZE}"
    assert received + rest.content == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=1000-1999", 1000, 2000),
        ("bytes=-10", SIZE - 10, SIZE),
        (f"bytes={SIZE - 5}-", SIZE - 5, SIZE),
        (f"bytes=10-{SIZE * 2}", 10, SIZE),
    ],
)
def test_a_single_range_is_exactly_those_bytes(
    http: httpx.Client, header: str, start: int, end: int
) -> None:
    response = http.get("/files/big.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["content-length"] == str(end - start)
    assert response.content == DATA[start:end]


def test_several_ranges_come_as_multipart_byteranges(http: httpx.Client) -> None:
    response = http.get("/files/big.bin", headers={"Range": "bytes=0-9, 500-599, -7"})
    assert response.status_code == 206
    media_type, _, boundary = response.headers["content-type"].partition("; boundary=")
    assert media_type == "multipart/byteranges"
    parts = response.content.split(f"--{boundary}".encode())
    assert parts[0] == b""
    assert parts[-1] == b"--"
    found = []
    for part in parts[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        assert body.endswith(b"\r\n")
        content_range = next(
            line for line in head.decode().split("\r\n") if line.startswith("Content-Range:")
        )
        found.append((content_range, body[:-2]))
    assert found == [
        (f"Content-Range: bytes 0-9/{SIZE}", DATA[:10]),
        (f"Content-Range: bytes 500-599/{SIZE}", DATA[500:600]),
        (f"Content-Range: bytes {SIZE - 7}-{SIZE - 1}/{SIZE}", DATA[-7:]),
    ]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE * 3}-{SIZE * 4}"])
def test_an_unsatisfiable_range_is_416_with_the_size(http: httpx.Client, header: str) -> None:
    response = http.get("/files/big.bin", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"


def test_if_range_sends_the_whole_file_once_it_changed(http: httpx.Client) -> None:
    current = http.head("/files/big.bin").headers
    stale = http.get("/files/big.bin", headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == DATA
    for validator in (current["etag"], current["last-modified"]):
        fresh = http.get("/files/big.bin", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert fresh.status_code == 206
        assert fresh.content == DATA[:10]


def test_a_current_copy_gets_304(http: httpx.Client) -> None:
    current = http.head("/files/table.csv").headers
    etag, last_modified = current["etag"], current["last-modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
    ):
        response = http.get("/files/table.csv", headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b""
        assert response.headers["etag"] == etag
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": formatdate(0, usegmt=True)},
        {"If-Modified-Since": "not a date"},
    ):
        response = http.get("/files/table.csv", headers=headers)
        assert response.status_code == 200, headers
        assert response.content == TABLE


def test_a_non_ascii_name_gets_filename_star_and_an_ascii_fallback(http: httpx.Client) -> None:
    response = http.get(f"/files/{UNICODE_NAME}")
    assert response.status_code == 200
    header = response.headers["content-disposition"]
    assert header == (
        'attachment; filename="Cafe menu __.txt"; '
        "filename*=UTF-8''Caf%C3%A9%20menu%20%E6%9D%B1%E4%BA%AC.txt"
    )
    assert unquote(header.rpartition("''")[2]) == UNICODE_NAME


def test_quotes_in_a_name_cannot_break_out_of_the_header(http: httpx.Client) -> None:
    response = http.get(f"/files/{QUOTED_NAME}")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"say _hi_; x=1.txt\"; filename*=UTF-8''say%20%22hi%22%3B%20x%3D1.txt"
    )


@pytest.mark.parametrize(
    "name",
    ['a"b', "a\\b", "line\r\nSet-Cookie: x=1", "tab\there", "100%.txt", "東京", "", "\x00\x7f"],
)
def test_the_ascii_fallback_is_always_a_safe_quoted_string(name: str) -> None:
    fallback = ascii_fallback(name)
    assert fallback
    assert all(" " <= char <= "~" for char in fallback)
    assert not set(fallback) & set('"\\%')
    header = content_disposition(name)
    assert header.count('"') == 2
    assert all(" " <= char <= "~" for char in header)


def test_a_subdirectory_and_a_symlink_inside_the_root_are_served(http: httpx.Client) -> None:
    assert http.get("/files/sub/nested.txt").content == b"nested\n"
    alias = http.get("/files/alias.txt")
    assert alias.content == b"nested\n"
    assert alias.headers["content-disposition"] == 'attachment; filename="alias.txt"'


@pytest.mark.parametrize("name", ["missing.txt", "sub", "sub/", "pipe", ".env", ""])
def test_anything_but_a_visible_regular_file_is_a_json_404(http: httpx.Client, name: str) -> None:
    response = http.get(f"/files/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


ATTACKS = [
    "/files/../secret.txt",
    "/files/..%2fsecret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/%2e%2e%2fsecret.txt",
    "/files/%2E%2E%2Fsecret.txt",
    "/files/sub/../../secret.txt",
    "/files/sub/%2e%2e/%2e%2e/secret.txt",
    "/files/..%5csecret.txt",
    "/files/..\\secret.txt",
    "/files/sub%5c..%5c..%5csecret.txt",
    "/files//{secret}",
    "/files/%2f{secret}",
    "/files/{secret}",
    "/files/escape.txt",
    "/files/outside/secret.txt",
    "/files/outside/root/.env",
    "/files/.env",
    "/files/./.env",
    "/files/%2eenv",
    "/files/sub/nested.txt%00.png",
    "/files/secret.txt%00",
    "/files/..",
    "/files/%2e%2e",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_no_request_reaches_outside_the_root(files_url: str, root: Path, target: str) -> None:
    secret = (root.parent / "secret.txt").as_posix().lstrip("/")
    status, response = raw_get(files_url, target.format(secret=secret))
    assert status in {400, 404}
    assert SECRET not in response
    assert HIDDEN not in response


@pytest.mark.parametrize("target", ["/files/sub/nested.txt", "/files/sub%2fnested.txt"])
def test_the_same_raw_requests_do_reach_a_file_inside(files_url: str, target: str) -> None:
    status, response = raw_get(files_url, target)
    assert status == 200
    assert response.endswith(b"\r\n\r\nnested\n")


def test_a_text_download_is_never_compressed_and_keeps_its_ranges(http: httpx.Client) -> None:
    accept = {"Accept-Encoding": "gzip, br, zstd"}
    whole = http.get("/files/table.csv", headers=accept)
    assert whole.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-encoding" not in whole.headers
    assert whole.headers["content-length"] == str(len(TABLE))
    assert whole.content == TABLE
    part = http.get("/files/table.csv", headers=accept | {"Range": "bytes=9-17"})
    assert part.status_code == 206
    assert "content-encoding" not in part.headers
    assert part.content == TABLE[9:18] == b"1,alpha\r\n"


def test_a_file_is_read_and_sent_one_chunk_at_a_time(settings: Settings, root: Path) -> None:
    chunk_size = 16_384
    app = create_app(settings.model_copy(update={"files_dir": root, "chunk_size": chunk_size}))
    messages = asgi_messages(app, "/files/big.bin")
    bodies = [message["body"] for message in messages[1:] if message["body"]]
    assert [len(body) for body in bodies] == [chunk_size] * (SIZE // chunk_size)
    assert b"".join(bodies) == DATA


def test_the_app_refuses_to_start_when_files_dir_is_a_file(
    settings: Settings, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "files"
    not_a_directory.write_bytes(b"")
    with pytest.raises(SystemExit) as stopped:
        create_app(settings.model_copy(update={"files_dir": not_a_directory}))
    assert str(stopped.value) == f"FILES_DIR={not_a_directory} is not a directory"


def test_a_files_dir_that_was_set_and_does_not_exist_stops_the_service(
    settings: Settings, tmp_path: Path
) -> None:
    mistyped = tmp_path / "flies"
    with pytest.raises(SystemExit) as stopped:
        create_app(settings.model_copy(update={"files_dir": mistyped}))
    assert str(stopped.value).startswith(f"FILES_DIR={mistyped} does not exist: ")
    assert "\n" not in str(stopped.value)
    assert not mistyped.exists()
