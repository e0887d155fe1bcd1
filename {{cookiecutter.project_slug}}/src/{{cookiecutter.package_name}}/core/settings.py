"""Settings that are not one feature's own: logging, connection limits{% if cookiecutter.__rows or cookiecutter.format_file %}, the piece size{% endif %}{% if cookiecutter.compression != 'none' %}, compression{% endif %}.

Each feature declares its settings in its own package; `<package>.settings`
combines the selected ones into the one `Settings` the service reads.
"""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings


class ServiceSettings(BaseSettings):
    """What every render has."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: lines for people; json: one JSON object per line, for machines.",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def _tokens(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    tokens = [token.strip() for token in value.get_secret_value().split(",")]
    if any(len(token) < 16 for token in tokens):
        msg = "expected tokens of 16 characters or more, separated by commas"
        raise ValueError(msg)
    return value


class AccessSettings(BaseSettings):
    """Who may read the streaming routes (`core.access`): anyone, unless API_TOKENS is set."""

    api_tokens: Annotated[SecretStr | None, AfterValidator(_tokens)] = Field(
        default=None,
        description="Bearer tokens (comma-separated, 16+ characters each) that the streaming "
        "routes then require; unset, they are open.",
    )


_ORIGIN = re.compile(r"https?://[^\s/,]+")


def _origins(value: str) -> str:
    listed = [origin.strip() for origin in value.split(",") if origin.strip()]
    if listed != ["*"] and not all(_ORIGIN.fullmatch(origin) for origin in listed):
        msg = "expected '*' or origins such as https://app.example.com, separated by commas"
        raise ValueError(msg)
    return value


class CorsSettings(BaseSettings):
    """Which web origins may call the service from a browser (`core.cors`)."""

    cors_origins: Annotated[str, AfterValidator(_origins)] = Field(
        default="",
        description="Origins allowed to call from a browser (comma-separated, or *); "
        "empty, CORS is off.",
    )


class StreamLimitSettings(BaseSettings):
    """How many streams one process serves at once (`core.limits`)."""

    max_streams: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Streams (exports, downloads, relayed and event streams) one process serves "
        "at once; one more is a 503 with Retry-After.",
    )


class ServerLimitsSettings(BaseSettings):
    """What one connection may cost: bounds the HTTP protocol (`core.http_protocol`) holds."""

    request_head_max_bytes: int = Field(
        default=65_536,
        ge=1024,
        le=16_777_216,
        description="Bytes a request line and its headers may take; larger ones get a 431.",
    )
    request_timeout: float = Field(
        default=15,
        gt=0,
        le=3600,
        description="Seconds a client may take to send a request, from its first byte (or from "
        "connecting); slower ones get a 408.",
    )
    send_buffer_bytes: int = Field(
        default=131_072,
        ge=0,
        le=67_108_864,
        description="Unsent bytes of a response the kernel may hold per connection "
        "(TCP_NOTSENT_LOWAT); 0 leaves the kernel's own, which grows to megabytes.",
    )
    send_timeout: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="Seconds a client may accept no byte of a response while more waits; "
        "then the response is aborted.",
    )
{%- if cookiecutter.__rows or cookiecutter.format_file %}


class PieceSettings(BaseSettings):
    """The size of what a stream sends at once, for every feature that cuts bytes into pieces."""

    chunk_size: int = Field(
        default={{ cookiecutter.chunk_size }},
        ge=512,
        le=8_388_608,
        description="Bytes per streamed piece (before compression) and per file read.",
    )
{%- endif %}
{%- if cookiecutter.compression != "none" %}


class CompressionSettings(BaseSettings):
    """What the compression middleware offers clients."""

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
