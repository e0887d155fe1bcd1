{%- set rows = cookiecutter.__rows -%}
import httpx
{%- if rows %}

from {{ cookiecutter.package_name }}.rows.feature import FORMATS
{%- endif %}


def test_healthz_answers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_every_response_forbids_content_sniffing(client: httpx.Client) -> None:
    for path in ("/healthz", "/openapi.json", "/no-such-path"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path


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
    for row_format in FORMATS:
        operation = paths[f"/items.{row_format.suffix}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert list(content) == [row_format.media_type]
        schema = content[row_format.media_type]["schema"]
        described = str(schema)
        for column in ("id", "name", "price", "created_at", "note"):
            assert column in described
        parameters = {parameter["name"] for parameter in operation["parameters"]}
        assert parameters == {"limit", "after_id"}
{%- endif %}
