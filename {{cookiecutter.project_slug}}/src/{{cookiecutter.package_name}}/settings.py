{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
"""Service settings, read once from the environment (and `.env`)."""

{% if cookiecutter.format_relay -%}
import re
{% endif -%}
{% if cookiecutter.format_file -%}
from pathlib import Path
{% endif -%}
from typing import Final, Literal, get_args

from pydantic import Field{% if cookiecutter.format_relay %}, HttpUrl{% endif %}, SecretStr, ValidationError, {% if rows %}ValidationInfo, {% endif %}field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
{%- set local = [
    "from .broker import MEMORY, Broker, BrokerUrl" if cookiecutter.format_sse else "",
    "from .database import DatabaseUrl, DatabaseUrlSetting" if rows else "",
    "from .upstream import UpstreamUrl" if cookiecutter.format_relay else "",
] | select | list %}
{%- if local %}

{{ local | join("\n") }}
{%- endif %}


class Settings(BaseSettings):
    """Every knob of the service; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
{%- if rows %}

    database_url: DatabaseUrlSetting = Field(
        default=DatabaseUrl("sqlite:///./data/items.db"),
        description=(
            "Where rows come from: sqlite:///relative/path, sqlite:////absolute/path, "
            "or postgresql://user:password@host:port/database."
        ),
    )
    database_pool_min: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="PostgreSQL connections the pool keeps open when idle.",
    )
    database_pool_max: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL connections open at most: exports streaming at once.",
    )
    database_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds a request waits for a free PostgreSQL connection before a 503.",
    )
    database_connect_timeout: int = Field(
        default=5,
        ge=2,
        le=300,
        description="Seconds to open one PostgreSQL connection (libpq's minimum is 2).",
    )
    sample_rows: int = Field(
        default=1000,
        ge=0,
        le=10_000_000,
        description="Rows of sample data created on first start when the database is missing.",
    )
    batch_size: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Rows fetched from the cursor and encoded per step.",
    )
    flush_interval: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description="Seconds a partial piece may wait before it is sent anyway.",
    )
{%- endif %}
{%- if rows or cookiecutter.format_file %}
    chunk_size: int = Field(
        default={{ cookiecutter.chunk_size }},
        ge=512,
        le=8_388_608,
        description="Bytes per streamed piece (before compression) and per file read.",
    )
{%- endif %}
{%- if cookiecutter.format_file %}
    files_dir: Path = Field(
        default=Path("files"),
        description="Directory served at /files/; a relative path starts at the working directory.",
    )
{%- endif %}
{%- if cookiecutter.format_relay %}
    upstream_url: UpstreamUrl = Field(
        default=HttpUrl("http://127.0.0.1:8000"),
        description="Base URL relayed at /relay/: http(s)://host[:port][/path], no query.",
        # Left out of repr(settings): the URL may carry the upstream's credentials.
        repr=False,
    )
    upstream_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds to connect to the upstream (and to wait for a free connection).",
    )
    upstream_read_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds the upstream may stay silent: before its headers or between pieces.",
    )
    upstream_max_connections: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Upstream connections open at once; further requests wait for one.",
    )
{%- endif %}
{%- if cookiecutter.compression != "none" %}
    compression: Literal["{{ cookiecutter.compression }}", "none"] = Field(
        default="{{ cookiecutter.compression }}",
        description="Compression offered to clients that accept it; 'none' turns it off.",
    )
    compression_level: int = Field(
        default={{ {"gzip": 1, "br": 4, "zstd": 3}[cookiecutter.compression] }},
        ge={{ {"gzip": 0, "br": 0, "zstd": 1}[cookiecutter.compression] }},
        le={{ {"gzip": 9, "br": 11, "zstd": 22}[cookiecutter.compression] }},
        description="Compressor level: speed against ratio.",
    )
{%- endif %}
{%- if cookiecutter.format_sse %}
    publish_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token POST /events requires; unset, publishing is refused.",
    )
    sse_history: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="Events kept (in memory, or in the Redis stream) for Last-Event-ID replay.",
    )
    sse_keepalive_seconds: float = Field(
        default=15,
        gt=0,
        le=3600,
        description="Seconds of silence before a keep-alive comment; below proxy timeouts.",
    )
    sse_retry_ms: int = Field(
        default=3000,
        ge=0,
        le=3_600_000,
        description="Milliseconds a client should wait before reconnecting (the retry: hint).",
    )
    sse_queue_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Events a subscriber may fall behind before it is dropped to reconnect.",
    )
    broker_url: Broker = Field(
        default=BrokerUrl(MEMORY),
        description="Where events go: memory:// (this process alone) or "
        "redis[s]://[[user]:password@]host[:port][/db] (one feed for every process).",
    )
    sse_stream: str = Field(
        default="events",
        pattern=r"^[A-Za-z0-9_.:{}-]{1,200}$",
        description="The Redis stream (key) events go through; services sharing one feed share it.",
    )
    broker_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=300,
        description="Seconds to connect to the broker, or for it to answer, before giving up.",
    )
    broker_backoff_max_seconds: float = Field(
        default=5,
        gt=0,
        le=300,
        description="Longest wait between attempts to reach the broker again after losing it.",
    )
{%- endif %}
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
{%- if rows %}

    @field_validator("database_pool_max")
    @classmethod
    def _at_least_min(cls, value: int, info: ValidationInfo) -> int:
        smallest = info.data.get("database_pool_min", 0)
        if value < smallest:
            msg = f"must be at least DATABASE_POOL_MIN ({smallest})"
            raise ValueError(msg)
        return value
{%- endif %}


{% if cookiecutter.format_relay -%}
# scheme://user[:password]@...: a refused value like this is never echoed.
_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")


{% endif -%}
def load_settings() -> Settings:
    """Read the settings; a bad value stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])).upper()}={_shown(problem)}: {_plainly(problem)}"
            for problem in error.errors()
        )
        raise SystemExit(f"invalid settings: {problems}") from None


# pydantic's error types, each as a sentence about a setting; its own words are
# for models ("at least 16 items after validation"), these for the people who set them.
_PLAIN: Final = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "too_short": "must be at least {min_length} characters",
    "string_too_short": "must be at least {min_length} characters",
    "too_long": "must be at most {max_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "literal_error": "must be {expected}",
    "url_parsing": "must be a URL ({error})",
    "url_scheme": "must be a URL whose scheme is {expected_schemes}",
    "missing": "must be set",
}


def _plainly(problem: ErrorDetails) -> str:
    """What is wrong with a setting, in words; pydantic's message where none is written here.

    A validator's own message (a `value_error`) is already a sentence about the
    setting: it is used as it is, without pydantic's "Value error, " before it.
    """
    context = problem.get("ctx", {})
    if problem["type"] == "value_error" and "error" in context:
        return str(context["error"])
    template = _PLAIN.get(problem["type"])
    if template is None:
        return problem["msg"]
    # 0.0 reads as 0: the limits of whole-number and decimal settings alike.
    values = {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key, value in context.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return problem["msg"]


def _shown(problem: ErrorDetails) -> str:
    """The refused value, quoted; a secret is masked, even a wrong one{% if rows or cookiecutter.format_sse %} (a URL's password){% endif %}."""
    field = Settings.model_fields.get(str(problem["loc"][0]))
    annotation = field.annotation if field else None
    for kind in (annotation, *get_args(annotation)):
        if kind is SecretStr:
            return "'***'"
        if isinstance(kind, type) and issubclass(kind, SecretStr):
            # A secret type of its own (a URL) shows what it shows of a valid value.
            return repr(str(kind(str(problem["input"]))))
{%- if cookiecutter.format_relay %}
    if isinstance(problem["input"], str) and _CREDENTIALS.match(problem["input"]):
        return "'<a URL with credentials, not shown>'"
{%- endif %}
    return repr(problem["input"])
