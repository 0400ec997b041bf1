"""A value is redacted in the form the serializer writes it: an Enum's value, ``__json__``'s result, ``repr``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, NamedTuple

import orjson

import fapilog

DSN = "postgres://app:hunter2@db/x"


class Database(enum.Enum):
    MAIN = DSN


class Setting(enum.Enum):
    FIRST = "password"  # the member name is no secret name: only its value is


class Connection:
    """A value orjson cannot encode: the serializer writes its ``repr``, which differs from its ``str``."""

    def __str__(self) -> str:
        return "Connection"

    def __repr__(self) -> str:
        return f"Connection({DSN!r})"


class Credentials:
    """A value the serializer encodes through its ``__json__`` method."""

    def __json__(self) -> dict[str, Any]:
        return {"user": "app", "password": "hunter2"}


class Login(NamedTuple):
    """A named tuple: orjson does not encode it, so the serializer writes its repr, field names included."""

    user: str
    token: str


def _written(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    path = tmp_path / "out.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    fapilog.get_logger("forms").info("event", **fields)
    assert fapilog.flush(10.0).ok
    fapilog.shutdown(timeout=5.0)
    text = path.read_text()
    assert "hunter2" not in text
    [line] = text.splitlines()
    return orjson.loads(line)  # type: ignore[no-any-return]


def test_an_enum_whose_value_holds_url_credentials_is_written_masked(tmp_path: Path) -> None:
    """An Enum member is written as its value, so the URL password in that value is masked."""
    assert _written(tmp_path, db=Database.MAIN)["db"] == "postgres://app:***@db/x"


def test_an_object_written_as_its_repr_has_the_url_password_in_the_repr_masked(tmp_path: Path) -> None:
    """An object orjson cannot encode is written as its repr: a URL password in the repr is masked."""
    assert _written(tmp_path, conn=Connection())["conn"] == "Connection('postgres://app:***@db/x')"


def test_an_object_written_through_its_json_method_has_secret_names_masked(tmp_path: Path) -> None:
    """An object encoded through ``__json__`` gets its secret-named fields masked like a dict."""
    assert _written(tmp_path, creds=Credentials())["creds"] == {"user": "app", "password": "***"}


def test_a_named_tuple_has_its_secret_named_fields_masked(tmp_path: Path) -> None:
    """A named tuple's fields are judged by name, as a dict's are; its repr would show the token otherwise."""
    assert _written(tmp_path, login=Login("app", "hunter2"))["login"] == {"user": "app", "token": "***"}


def test_an_enum_key_is_judged_by_its_value(tmp_path: Path) -> None:
    """An Enum used as a mapping key is written as its value, so a secret name there masks the value."""
    assert _written(tmp_path, settings={Setting.FIRST: "hunter2"})["settings"] == {"password": "***"}
