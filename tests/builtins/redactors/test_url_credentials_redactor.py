"""The ``url_credentials`` redactor: ``user:password@`` removed from URLs of any scheme."""

from __future__ import annotations

from typing import Any

import pytest
from tests.builtins.redactors._records import event, one, redact

from fapilog.builtins.redactors.url_credentials import UrlCredentialsRedactor
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

SCHEMES = [
    "http", "https", "postgres", "postgresql", "postgresql+psycopg", "mysql", "mysql+pymysql", "redis", "rediss",
    "amqp", "amqps", "mongodb", "mongodb+srv", "ftp", "sftp", "ldap", "smtp",
]


def strip(text: str, **settings: Any) -> str:
    """The message after redaction with the given settings."""
    out: str = one(UrlCredentialsRedactor(**settings), text)["message"]
    return out


@pytest.mark.parametrize("scheme", SCHEMES)
def test_credentials_are_stripped_for_any_scheme(scheme: str) -> None:
    """scheme://user:password@host keeps the scheme and host and loses the credentials."""
    text = f"connect {scheme}://app:s3cr3t@db.internal:5432/orders?sslmode=require now"
    assert strip(text) == f"connect {scheme}://***@db.internal:5432/orders?sslmode=require now"


def test_keep_user_masks_only_the_password() -> None:
    """With keep_user the user name stays and the password is masked."""
    assert strip("postgres://app:s3cr3t@db/x", keep_user=True) == "postgres://app:***@db/x"


def test_keep_user_leaves_a_url_with_only_a_user() -> None:
    """With keep_user a URL that has no password is unchanged."""
    assert strip("ssh://git@github.com/org/repo", keep_user=True) == "ssh://git@github.com/org/repo"


def test_user_only_credentials_are_removed_by_default() -> None:
    """A token used as the user name is removed too when keep_user is off."""
    assert strip("https://ghtoken123@github.com/org/repo.git") == "https://***@github.com/org/repo.git"


def test_empty_mask_removes_the_credentials_without_a_trace() -> None:
    """mask='' drops the credentials and the '@'."""
    assert strip("redis://:pw@cache:6379/0", mask="") == "redis://cache:6379/0"
    assert strip("redis://app:pw@cache:6379/0", mask="", keep_user=True) == "redis://app@cache:6379/0"


def test_password_containing_at_sign() -> None:
    """The last '@' before the host ends the credentials."""
    assert strip("mysql://root:p@ss@w0rd@db:3306/app") == "mysql://***@db:3306/app"


def test_password_containing_an_apostrophe() -> None:
    """An apostrophe is legal in a URL password (an RFC 3986 sub-delimiter): the whole password is masked."""
    assert strip("postgres://app:it's-mine@db/x", keep_user=True) == "postgres://app:***@db/x"
    assert strip("dsn='postgres://app:pw@db/x'", keep_user=True) == "dsn='postgres://app:***@db/x'"


def test_urls_without_credentials_and_at_signs_elsewhere_are_kept() -> None:
    """An '@' in the path or query is not a credential separator."""
    text = "see https://example.com/users/@ada?mail=ada@example.com and mailto ada@example.com"
    assert strip(text) == text


def test_several_urls_in_one_string() -> None:
    """Every URL in a string is handled."""
    text = 'primary="postgres://a:b@h1/db", replica="postgres://c:d@h2/db"'
    assert strip(text) == 'primary="postgres://***@h1/db", replica="postgres://***@h2/db"'


def test_jdbc_style_urls() -> None:
    """A scheme embedded after another prefix (jdbc:) is still found."""
    assert strip("jdbc:postgresql://u:p@h:5432/db") == "jdbc:postgresql://***@h:5432/db"


def test_nested_values_and_exception_messages_are_stripped() -> None:
    """URLs in nested fields, lists and exception messages are stripped."""
    record = event(
        settings={"dsn": "amqp://guest:guest@rabbit//", "replicas": ["mongodb+srv://u:p@c0.example.net/db"]},
        exception={"type": "OperationalError", "message": "could not connect to postgres://app:pw@db/x",
                   "frames": [], "truncated_frames": 0},
    )
    out = redact(UrlCredentialsRedactor(), record)[0]
    assert out["settings"] == {"dsn": "amqp://***@rabbit//", "replicas": ["mongodb+srv://***@c0.example.net/db"]}
    assert out["exception"]["message"] == "could not connect to postgres://***@db/x"


def test_untouched_record_is_returned_as_is() -> None:
    """A record without credentials in URLs is the same object."""
    record = event("GET https://example.com/health", peer="10.0.0.1")
    assert redact(UrlCredentialsRedactor(), record)[0] is record


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"keep_user": "maybe"}, "keep_user"), ({"mask": 1}, "mask"), ({"max_items": 0}, "max_items")],
)
def test_invalid_settings_name_plugin_and_field(settings: dict[str, Any], field: str) -> None:
    """A bad setting raises ConfigError starting 'url_credentials.<field>:'."""
    with pytest.raises(ConfigError, match=rf"^url_credentials\.{field}: must be"):
        UrlCredentialsRedactor(**settings)


def test_settings_accept_environment_text() -> None:
    """Booleans and numbers given as text (as environment variables deliver them) are converted."""
    settings = UrlCredentialsRedactor(keep_user="true", max_depth="8").settings  # type: ignore[arg-type]
    assert (settings.keep_user, settings.max_depth) == (True, 8)


def test_strips_through_the_real_pipeline() -> None:
    """Configured in fapilog, the password never reaches the sink's bytes."""
    import fapilog

    sink = MemorySink()
    fapilog.configure(sinks=[sink], redactors=[UrlCredentialsRedactor(keep_user=True)])
    fapilog.get_logger("db").warning("pool connecting", dsn="postgresql://orders:Tr0ub4dor&3@db:5432/orders")
    fapilog.flush(5.0)
    [line] = sink.lines
    assert b"Tr0ub4dor" not in line
    assert sink.records[0]["dsn"] == "postgresql://orders:***@db:5432/orders"
