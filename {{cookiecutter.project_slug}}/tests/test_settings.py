{%- set rows = cookiecutter.__rows -%}
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
{%- if rows or cookiecutter.format_file %}
    assert settings.chunk_size == {{ cookiecutter.chunk_size }}
{%- endif %}
{%- if rows %}
    assert settings.database_url.get_secret_value() == "sqlite:///./data/items.db"
    assert settings.database_pool_max == 10
{%- endif %}
{%- if cookiecutter.format_file %}
    assert settings.files_dir == Path("files")
{%- endif %}
{%- if cookiecutter.format_relay %}
    assert str(settings.upstream_url) == "http://127.0.0.1:8000/"
    assert settings.upstream_read_timeout == 30
{%- endif %}
{%- if cookiecutter.compression != "none" %}
    assert settings.compression == "{{ cookiecutter.compression }}"
{%- endif %}
{%- if cookiecutter.format_sse %}
    assert settings.publish_token is None
    assert settings.sse_keepalive_seconds == 15
    assert settings.broker_url.get_secret_value() == "memory://"
    assert settings.sse_stream == "events"
{%- endif %}
    assert settings.log_level == "info"


@pytest.mark.parametrize(
    ("name", "value"),
    [
{%- if rows or cookiecutter.format_file %}
        ("CHUNK_SIZE", "511"),
        ("CHUNK_SIZE", "lots"),
{%- endif %}
{%- if rows %}
        ("DATABASE_URL", "mysql://db/items"),
        ("DATABASE_URL", "postgresql://db"),
        ("DATABASE_URL", "postgresql://db:port/items"),
        ("DATABASE_URL", "postgresql://[db/items"),
        ("DATABASE_URL", "sqlite://items.db"),
        ("DATABASE_URL", "items.db"),
        ("BATCH_SIZE", "0"),
        ("DATABASE_POOL_MAX", "0"),
        ("DATABASE_POOL_TIMEOUT", "0"),
        ("DATABASE_CONNECT_TIMEOUT", "1"),
{%- endif %}
{%- if cookiecutter.format_relay %}
        ("UPSTREAM_URL", "ftp://files.example.com"),
        ("UPSTREAM_URL", "not a url"),
        ("UPSTREAM_URL", "http://example.com/api?key=1"),
        ("UPSTREAM_READ_TIMEOUT", "0"),
        ("UPSTREAM_MAX_CONNECTIONS", "0"),
{%- endif %}
{%- if cookiecutter.compression != "none" %}
        ("COMPRESSION", "lzma"),
{%- endif %}
{%- if cookiecutter.format_sse %}
        ("PUBLISH_TOKEN", "too-short"),
        ("SSE_HISTORY", "-1"),
        ("SSE_KEEPALIVE_SECONDS", "0"),
        ("SSE_QUEUE_SIZE", "0"),
        ("SSE_RETRY_MS", "soon"),
        ("BROKER_URL", "memory:"),
        ("BROKER_URL", "amqp://broker:5672"),
        ("BROKER_URL", "redis://"),
        ("BROKER_URL", "redis://cache:port"),
        ("BROKER_URL", "redis://cache:0"),
        ("BROKER_URL", "redis://cache/one"),
        ("BROKER_URL", "redis://cache/0?password=secret"),
        ("BROKER_URL", "redis://[::1"),
        ("SSE_STREAM", "two words"),
        ("BROKER_TIMEOUT_SECONDS", "0"),
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
    # The service says so in words of its own, not in pydantic's.
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith(f"invalid settings: {name}=")
    for phrase in ("Input should", "Value should", "String should", "Value error", "validation"):
        assert phrase not in message


def test_the_service_stops_with_one_line_naming_the_bad_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith("invalid settings: LOG_LEVEL='chatty'")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
{%- if rows or cookiecutter.format_file %}
        ("CHUNK_SIZE", "511", "CHUNK_SIZE='511': must be at least 512"),
        ("CHUNK_SIZE", "9999999999", "CHUNK_SIZE='9999999999': must be at most 8388608"),
        ("CHUNK_SIZE", "lots", "CHUNK_SIZE='lots': must be a whole number"),
{%- endif %}
{%- if rows %}
        ("BATCH_SIZE", "1.5", "BATCH_SIZE='1.5': must be a whole number"),
        ("DATABASE_POOL_TIMEOUT", "0", "DATABASE_POOL_TIMEOUT='0': must be more than 0"),
        ("FLUSH_INTERVAL", "soon", "FLUSH_INTERVAL='soon': must be a number"),
{%- endif %}
{%- if cookiecutter.format_relay %}
        (
            "UPSTREAM_URL",
            "ftp://files.example.com",
            "UPSTREAM_URL='ftp://files.example.com': must be a URL whose scheme is "
            "'http' or 'https'",
        ),
{%- endif %}
{%- if cookiecutter.compression != "none" %}
        ("COMPRESSION", "lzma", "COMPRESSION='lzma': must be '{{ cookiecutter.compression }}' or 'none'"),
{%- endif %}
{%- if cookiecutter.format_sse %}
        ("PUBLISH_TOKEN", "too-short", "PUBLISH_TOKEN='***': must be at least 16 characters"),
        (
            "SSE_STREAM",
            "two words",
            "SSE_STREAM='two words': must match ^[A-Za-z0-9_.:{}-]{1,200}$",
        ),
{%- endif %}
        (
            "LOG_LEVEL",
            "chatty",
            "LOG_LEVEL='chatty': must be 'debug', 'info', 'warning' or 'error'",
        ),
    ],
)
def test_a_refusal_says_what_is_accepted_in_plain_words(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert str(stopped.value) == f"invalid settings: {said}"

{%- if cookiecutter.format_sse %}


def test_the_publish_token_stays_out_of_logs_and_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISH_TOKEN", "a-long-enough-secret-token")
    settings = Settings()
    assert settings.publish_token is not None
    assert settings.publish_token.get_secret_value() == "a-long-enough-secret-token"
    assert "a-long-enough-secret-token" not in repr(settings)
    assert "a-long-enough-secret-token" not in str(settings.model_dump())


@pytest.mark.parametrize(
    "url", ["redis://:hunter2-secret@cache:6379/0", "rediss://app:hunter2-secret@cache/1"]
)
def test_a_broker_password_stays_out_of_logs_and_reprs(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("BROKER_URL", url)
    settings = Settings()
    assert settings.broker_url.get_secret_value() == url
    assert settings.broker_url.scheme == url.partition(":")[0]
    for shown in (repr(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert "hunter2" not in shown
    # Where it points is still shown.
    assert f"BrokerUrl('{url.replace('hunter2-secret', '***')}')" in repr(settings)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2-secret@cache:port/0", "redis://:***@cache:port/0"),
        ("redis://app:hunter2/secret@cache/0", "redis://app:***@cache/0"),
        ("redis://hunter2-secret@cache/zero", "redis://***@cache/zero"),
        ("amqp://app:hunter2-secret@mq/app", "amqp://app:***@mq/app"),
    ],
)
def test_a_refused_broker_url_is_printed_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("BROKER_URL", url)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith(f"invalid settings: BROKER_URL={shown!r}: ")
    assert "expected memory:// or redis[s]://" in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_a_refused_publish_token_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISH_TOKEN", "short-secret")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith("invalid settings: PUBLISH_TOKEN='***': ")
    assert "short-secret" not in message
{%- endif %}


{%- if rows %}


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/items.db",
        "sqlite:////var/lib/items.db",
        "postgresql://app:secret@db.example.com:5432/items",
        "postgres://db/items?sslmode=require",
        "postgresql://h1:5432,h2:5433/items",
        "postgresql:///items",
    ],
)
def test_database_url_takes_sqlite_and_postgresql(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert Settings().database_url.get_secret_value() == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://app:hunter2-secret@db/items", "mysql://app:***@db/items"),
        ("postgresql://app:hunter2-secret@db:5432", "postgresql://app:***@db:5432"),
        ("postgresql://app@db?password=hunter2-secret", "postgresql://app@db?password=***"),
    ],
)
def test_a_refused_database_url_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith(f"invalid settings: DATABASE_URL={shown!r}: ")
    assert "sqlite:///" in message
    assert "postgresql://" in message
    assert "hunter2-secret" not in message
    assert "\n" not in message


def test_a_pool_smaller_than_its_minimum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_MIN", "5")
    monkeypatch.setenv("DATABASE_POOL_MAX", "2")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert "DATABASE_POOL_MAX='2': must be at least DATABASE_POOL_MIN (5)" in str(stopped.value)


def test_the_database_password_stays_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2-secret@db:5432/items")
    settings = Settings()
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "hunter2-secret" not in shown
    assert "postgresql://app:***@db:5432/items" in repr(settings)
{%- endif %}

{%- if cookiecutter.format_relay %}


def test_upstream_credentials_stay_out_of_reprs_and_refusals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UPSTREAM_URL", "https://relay:hunter2-secret@upstream.example/base")
    settings = Settings()
    assert settings.upstream_url.password == "hunter2-secret"  # noqa: S105 - a test value
    assert "hunter2-secret" not in repr(settings)
    assert "hunter2-secret" not in str(settings)
    monkeypatch.setenv("UPSTREAM_URL", "https://relay:hunter2-secret@upstream.example/?q=1")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith(
        "invalid settings: UPSTREAM_URL='https://relay:***@upstream.example/?q=1'"
    )
    assert "no query or fragment" in message
    assert "hunter2-secret" not in message
{%- endif %}


def test_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert Settings().log_level == "debug"


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.partition("\n## Configuration\n")[2].partition("\n## ")[0]
    names = [name.upper() for name in Settings.model_fields]
    assert [name for name in names if f"| `{name}` |" not in table] == []
