{%- set rows = cookiecutter.__rows -%}
import re

import httpx
{%- if rows %}

from {{ cookiecutter.package_name }}.rows.datasets import DATASETS
from {{ cookiecutter.package_name }}.rows.feature import FORMATS
{%- endif %}


def test_healthz_answers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_every_response_forbids_content_sniffing(client: httpx.Client) -> None:
    for path in ("/healthz", "/openapi.json", "/no-such-path"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path


def test_the_docs_page_loads_only_pinned_files_with_their_digests(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    remote = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https://[^"]+)"[^>]*>', page.text)
    assert remote, "the page loads nothing from outside: then it shows nothing"
    for tag in re.findall(r"<(?:script|link)[^>]*https://[^>]*>", page.text):
        assert "swagger-ui-dist@5.35.0/" in tag, tag
        if "icon" not in tag:
            assert re.search(r'integrity="sha384-[A-Za-z0-9+/]{64}"', tag), tag
            assert 'crossorigin="anonymous"' in tag, tag
    assert client.get("/redoc").status_code == 404


def test_healthz_answers_head_too(client: httpx.Client) -> None:
    # Load balancers and uptime checks often probe with HEAD.
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""
{%- if rows %}


def test_openapi_documents_each_format_with_its_media_type_and_row_schema(
    client: httpx.Client,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for dataset in DATASETS:
        for row_format in FORMATS:
            operation = paths[f"/{dataset.name}.{row_format.suffix}"]["get"]
            content = operation["responses"]["200"]["content"]
            assert list(content) == [row_format.media_type]
            described = str(content[row_format.media_type]["schema"])
            for column in dataset.columns:
                assert column in described
            parameters = {parameter["name"] for parameter in operation["parameters"]}
            assert parameters == {"limit", "after_id"}
{%- endif %}
