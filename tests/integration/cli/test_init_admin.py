"""``clientbase init --admin NAME``: the store and its first administrator in one step."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from clientbase.cli.app import app
from clientbase.security.credentials import verify_password
from clientbase.storage.database import open_engine
from clientbase.storage.orm import AuditEntry, User
from tests.integration.cli.test_admin_commands import run


def _users(home: Path) -> list[User]:
    engine = open_engine(f"sqlite:///{home / 'clientbase.sqlite'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(User.username, User.role, User.password_hash)).all()
            audit = conn.execute(select(AuditEntry.action, AuditEntry.detail)).all()
    finally:
        engine.dispose()
    return [*rows, *audit]  # type: ignore[list-item]


def test_init_creates_the_store_and_the_first_admin_from_stdin(tmp_path: Path) -> None:
    result = run("init", "--admin", "boss", "--password-stdin", home=tmp_path, stdin="s3cret-pw\n")
    assert result.returncode == 0, result.stderr
    assert "Created the clientbase store" in result.stdout
    assert "Added admin 'boss'" in result.stdout
    rows = _users(tmp_path)
    username, role, password_hash = rows[0]
    assert (username, role) == ("boss", "admin")
    assert verify_password(password_hash, "s3cret-pw")
    assert ("user.create", {"role": "admin"}) in rows[1:]
    # The admin can sign in: `users list` sees them (and the password is not in the output).
    listed = run("users", "list", home=tmp_path)
    assert "boss" in listed.stdout and "s3cret-pw" not in listed.stdout + result.stdout


def test_init_refuses_an_existing_user_and_changes_nothing(tmp_path: Path) -> None:
    first = run("init", "--admin", "boss", "--password-stdin", home=tmp_path, stdin="first-pw-1\n")
    assert first.returncode == 0, first.stderr
    again = run("init", "--admin", "boss", "--password-stdin", home=tmp_path, stdin="other-pw-2\n")
    assert again.returncode == 75
    assert "a user named 'boss' already exists" in again.stderr
    assert "Traceback" not in again.stderr
    username, _, password_hash = _users(tmp_path)[0]
    assert username == "boss" and verify_password(password_hash, "first-pw-1")


def test_init_applies_the_password_rules_of_users_add(tmp_path: Path) -> None:
    short = run("init", "--admin", "boss", "--password-stdin", home=tmp_path, stdin="short\n")
    assert short.returncode == 65
    assert "at least 8 characters" in short.stderr
    empty = run("init", "--admin", "boss", "--password-stdin", home=tmp_path, stdin="\n")
    assert empty.returncode == 65
    assert "a password is needed" in empty.stderr
    # The store exists (init is idempotent) but holds no user.
    assert [r for r in _users(tmp_path) if len(r) == 3] == []
    alone = run("init", "--password-stdin", home=tmp_path, stdin="s3cret-pw\n")
    assert alone.returncode == 65
    assert "need --admin NAME" in alone.stderr


def test_init_asks_for_the_password_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'clientbase.sqlite'}"
    mismatch = runner.invoke(
        app,
        ["--db", db, "init", "--admin", "boss", "--name", "The Boss"],
        input="pw-number-one\npw-number-two\npw-number-one\npw-number-one\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert mismatch.output.count("Password:") == 2
    assert "do not match" in mismatch.output
    assert "pw-number-one" not in mismatch.output  # hidden input
    assert "Added admin 'boss'" in mismatch.output
    username, role, password_hash = _users(tmp_path)[0]
    assert (username, role) == ("boss", "admin")
    assert verify_password(password_hash, "pw-number-one")
