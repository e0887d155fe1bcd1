"""The event feed's settings: who may publish, how much history, where events go."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from .broker import MEMORY, Broker, BrokerUrl


class EventsSettings(BaseSettings):
    """The publish token, the history and pacing of streams, and the broker."""

    publish_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token POST /events requires; unset, publishing is refused.",
    )
    stream_token_seconds: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="Seconds a token from POST /events/token opens GET /events?access_token= "
        "(for EventSource, which cannot send headers) when API_TOKENS is set.",
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
        description="Longest silence on a stream before a keep-alive; below proxy timeouts.",
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
