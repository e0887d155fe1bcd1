"""The one masker: every URL shape the service takes shows no secret, and nothing else changes."""

import pytest

from {{ cookiecutter.package_name }}.core.credentials import SecretUrl, mask, mask_text

SHAPES = [
    # (what was given, what may be shown)
    ("scheme://user:s3cret@host:1234/path", "scheme://user:***@host:1234/path"),
    ("scheme://s3cret@host/path", "scheme://***@host/path"),
    ("scheme://:s3cret@host", "scheme://:***@host"),
    ("scheme://user:s3cret@[::1]:1234/path", "scheme://user:***@[::1]:1234/path"),
    ("scheme://user:p%40ss%2Fw0rd@host/path", "scheme://user:***@host/path"),
    ("scheme://user:pa/ss@host/path", "scheme://user:***@host/path"),
    ("scheme://host/path?user=u&password=s3cret", "scheme://host/path?user=u&password=***"),
    ("scheme://host/path?PASSWORD=s3cret#part", "scheme://host/path?PASSWORD=***#part"),
    ("scheme://host/path", "scheme://host/path"),
    ("not a URL at all", "not a URL at all"),
{%- if cookiecutter.__rows %}
    ("postgresql://app:s3cret@db:5432/items", "postgresql://app:***@db:5432/items"),
    ("postgres://app@db/items", "postgres://app@db/items"),
    (
        "postgresql://db/items?user=app&password=s3cret&sslmode=require",
        "postgresql://db/items?user=app&password=***&sslmode=require",
    ),
    (
        "postgresql://app:s3cret@h1:5432,h2:5433/items?target_session_attrs=read-write",
        "postgresql://app:***@h1:5432,h2:5433/items?target_session_attrs=read-write",
    ),
    ("postgresql://app:s3cret@[::1]:5432/items", "postgresql://app:***@[::1]:5432/items"),
    ("sqlite:///./data/items.db", "sqlite:///./data/items.db"),
{%- endif %}
{%- if cookiecutter.format_sse %}
    ("redis://s3cret@cache:6379/0", "redis://***@cache:6379/0"),
    ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
    ("rediss://user:s3cret@[2001:db8::1]:6380", "rediss://user:***@[2001:db8::1]:6380"),
    ("memory://", "memory://"),
{%- endif %}
{%- if cookiecutter.format_relay %}
    ("https://t0ken@upstream.example/base", "https://***@upstream.example/base"),
    ("http://relay:hunter2@127.0.0.1:8000/base", "http://relay:***@127.0.0.1:8000/base"),
{%- endif %}
]


@pytest.mark.parametrize(("given", "shown"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_every_url_shape_is_shown_without_its_secret(given: str, shown: str) -> None:
    assert mask(given) == shown
    assert str(SecretUrl(given)) == shown
    assert "s3cret" not in repr(SecretUrl(given))


def test_every_url_in_a_message_is_masked() -> None:
    message = "cannot reach scheme://s3cret@one:1/x nor 'scheme://a:s3cret@two/y', sorry"
    masked = "cannot reach scheme://***@one:1/x nor 'scheme://a:***@two/y', sorry"
    assert mask_text(message) == masked
