"""The row endpoints' settings: where rows come from and how they are read.

DATABASE_URL is checked here, at start, and kept secret: it may hold a password,
and everything that shows it shows it masked.
"""

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationInfo, field_validator

from ..core.credentials import SecretUrl
from ..core.settings import PieceSettings

ACCEPTED = (
    "sqlite:///<path to a database file> or "
    "postgresql://[user[:password]@]host[:port]/database (postgres:// too)"
)


class DatabaseUrl(SecretUrl):
    """DATABASE_URL: kept secret, as it may hold a password; shown with the password masked."""


def _postgres_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        hosts = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "not a URL"
    if not parts.path.strip("/"):
        return "no database name"
    # Several hosts may be listed, each with an optional port: h1:5432,h2:5433.
    for host in hosts.split(","):
        port = host.rpartition("]")[2].partition(":")[2]
        if port and not port.isdigit():
            return f"port {port!r} is not a number"
    return None


def _checked(value: object) -> object:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value  # pydantic refuses it as not a string
    scheme = value.partition("://")[0]
    if scheme == "sqlite" and value.startswith("sqlite:///") and value != "sqlite:///":
        return value
    if scheme in ("postgresql", "postgres"):
        problem = _postgres_problem(value)
        if problem is None:
            return value
        msg = f"{problem}; expected {ACCEPTED}"
        raise ValueError(msg)
    msg = f"expected {ACCEPTED}"
    raise ValueError(msg)


DatabaseUrlSetting = Annotated[DatabaseUrl, BeforeValidator(_checked)]


class RowsSettings(PieceSettings):
    """Where the row endpoints read, and the sizes they read and send in."""

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
        description="Rows of the sample database made on a fresh checkout (DATABASE_URL unset).",
    )
    batch_size: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description="Rows read and encoded per step: one Arrow batch (memory grows with it).",
    )
    flush_interval: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description="Seconds a partial piece may wait before it is sent anyway.",
    )

    @field_validator("database_pool_max")
    @classmethod
    def _at_least_min(cls, value: int, info: ValidationInfo) -> int:
        smallest = info.data.get("database_pool_min", 0)
        if value < smallest:
            msg = f"must be at least DATABASE_POOL_MIN ({smallest})"
            raise ValueError(msg)
        return value
