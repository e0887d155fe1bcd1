{%- set rows = cookiecutter.__rows -%}
import httpx
{%- if rows %}

from {{ cookiecutter.package_name }}.rows.datasets import DATASETS
from {{ cookiecutter.package_name }}.rows.feature import FORMATS
{%- endif %}


def test_healthz_answers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
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
