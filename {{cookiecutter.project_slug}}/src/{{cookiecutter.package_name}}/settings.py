{%- set mixins = [
    ("rows", "RowsSettings") if cookiecutter.__rows else "",
    ("events", "EventsSettings") if cookiecutter.format_sse else "",
    ("files", "FilesSettings") if cookiecutter.format_file else "",
    ("relay", "RelaySettings") if cookiecutter.format_relay else "",
] | select | list -%}
"""Service settings: each feature's own, combined, read once from the environment (and `.env`).

A feature declares its settings (and their checks) in its own package; this
module only lists the selected ones. The environment variable of a setting is
its name, upper-cased.
"""

from typing import get_args

from pydantic import SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsConfigDict

from .core.credentials import mask
from .core.settings import (
    AccessSettings,
{%- if cookiecutter.compression != "none" %}
    CompressionSettings,
{%- endif %}
    CorsSettings,
    ServerLimitsSettings,
    ServiceSettings,
    StreamLimitSettings,
)
{%- for package, mixin in mixins | sort %}
from .{{ package }}.settings import {{ mixin }}
{%- endfor %}


class Settings(
{%- for _, mixin in mixins %}
    {{ mixin }},
{%- endfor %}
{%- if cookiecutter.compression != "none" %}
    CompressionSettings,
{%- endif %}
    AccessSettings,
    CorsSettings,
    StreamLimitSettings,
    ServerLimitsSettings,
    ServiceSettings,
):
    """Every knob of the service; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


def load_settings() -> Settings:
    """Read the settings; a bad value stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])).upper()}={_shown(problem)}: {problem['msg']}"
            for problem in error.errors()
        )
        raise SystemExit(f"invalid settings: {problems}") from None


def _shown(problem: ErrorDetails) -> str:
    """The refused value, quoted; a secret is masked, even a wrong one (a URL's password)."""
    field = Settings.model_fields.get(str(problem["loc"][0]))
    annotation = field.annotation if field else None
    if any(kind is SecretStr for kind in (annotation, *get_args(annotation))):
        return "'***'"
    value = problem["input"]
    return repr(mask(value)) if isinstance(value, str) else repr(value)
