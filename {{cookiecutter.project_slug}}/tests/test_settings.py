{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
from pathlib import Path

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` file and none of the service's variables."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_are_the_answers_the_project_was_made_with() -> None:
    settings = Settings()
{%- if rows %}
    assert settings.chunk_size == {{ cookiecutter.chunk_size }}
    assert settings.database_url == "sqlite:///./data/items.db"
{%- endif %}
{%- if cookiecutter.compression != "none" %}
    assert settings.compression == "{{ cookiecutter.compression }}"
{%- endif %}
    assert settings.log_level == "info"


@pytest.mark.parametrize(
    ("name", "value"),
    [
{%- if rows %}
        ("CHUNK_SIZE", "511"),
        ("CHUNK_SIZE", "lots"),
        ("DATABASE_URL", "postgres://db/items"),
        ("BATCH_SIZE", "0"),
{%- endif %}
{%- if cookiecutter.compression != "none" %}
        ("COMPRESSION", "lzma"),
{%- endif %}
        ("LOG_LEVEL", "chatty"),
    ],
)
def test_a_bad_environment_value_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_the_service_stops_with_one_line_naming_the_bad_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith("invalid settings: LOG_LEVEL='chatty'")
    assert "\n" not in message
