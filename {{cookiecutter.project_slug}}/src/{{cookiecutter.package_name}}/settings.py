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

from typing import Final, get_args

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
    """The refused value, quoted; a secret is masked, even a wrong one (a URL's password)."""
    field = Settings.model_fields.get(str(problem["loc"][0]))
    annotation = field.annotation if field else None
    if any(kind is SecretStr for kind in (annotation, *get_args(annotation))):
        return "'***'"
    value = problem["input"]
    return repr(mask(value)) if isinstance(value, str) else repr(value)
