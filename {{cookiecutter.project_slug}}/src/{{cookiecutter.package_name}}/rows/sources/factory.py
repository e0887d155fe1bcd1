"""The database DATABASE_URL names, as a `RowSource`.

SQLite is embedded and always there; the PostgreSQL module is imported only
when it is configured, so a plain install, without psycopg, runs on SQLite.
"""

from ..settings import RowsSettings
from .base import RowSource
from .sqlite import SqliteSource


def row_source(settings: RowsSettings) -> RowSource:
    """The back-end DATABASE_URL names."""
    if settings.database_url.get_secret_value().startswith("sqlite:"):
        return SqliteSource(settings)
    from .postgres import PostgresSource  # noqa: PLC0415 - psycopg is an optional extra

    return PostgresSource(settings)
