"""Settings for tests, given rather than read{% if cookiecutter.format_sse %}, and the event feed's test values{% endif %}."""

{% if cookiecutter.format_sse -%}
import secrets
{% endif -%}
{% if cookiecutter.format_file -%}
import tempfile
from pathlib import Path
{% endif -%}
{% if cookiecutter.format_sse or cookiecutter.format_file %}
{% endif -%}
from {{ cookiecutter.package_name }}.settings import Settings
{%- if cookiecutter.format_sse %}

PUBLISH_TOKEN = secrets.token_urlsafe(24)
# Small, so that replay limits and dropped subscribers show within a test; the
# keep-alive is long, so that a disconnect seen within it was not seen by a write.
EVENT_SETTINGS = {
    "sse_history": 8,
    "sse_queue_size": 8,
    "sse_keepalive_seconds": 5.0,
    "sse_retry_ms": 1500,
}
# With Redis: give up on it, and try it again, quickly.
BROKER_TIMINGS = {"broker_timeout_seconds": 2.0, "broker_backoff_max_seconds": 0.1}
{%- endif %}
{%- if cookiecutter.format_file %}

# FILES_DIR for the apps tests build: an empty directory, so none of them writes
# a sample into the project. The file tests serve trees of their own.
FILES_DIR = Path(tempfile.mkdtemp(prefix="files-"))
{%- endif %}


def make_settings(**changes: object) -> Settings:
    """Settings for tests, whatever the environment says: values are given, not read."""
    values: dict[str, object] = {
        "log_level": "info",
{%- if cookiecutter.__rows %}
        "batch_size": 500,
        "chunk_size": 4096,
{%- endif %}
{%- if cookiecutter.format_file %}
        "files_dir": FILES_DIR,
{%- endif %}
    }
    return Settings.model_validate(values | changes)
