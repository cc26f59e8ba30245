"""The CLI as a user runs it: a real process, its output, its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTBASE_HOME": str(home), "COLUMNS": "200"}
    env.pop("CLIENTBASE_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "clientbase", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_init_creates_the_embedded_store_and_is_idempotent(tmp_path: Path) -> None:
    first = run("init", home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Created the clientbase store" in first.stdout
    assert (tmp_path / "clientbase.sqlite").is_file()
    again = run("init", home=tmp_path)
    assert again.returncode == 0
    assert "is ready" in again.stdout
    upgrade = run("db", "upgrade", home=tmp_path)
    assert "already current" in upgrade.stdout


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    assert run("init", home=tmp_path).returncode == 0
    backup = run("backup", str(tmp_path / "copy.sqlite"), home=tmp_path)
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "copy.sqlite").is_file()
    refused = run("restore", str(tmp_path / "copy.sqlite"), home=tmp_path, stdin="n\n")
    assert refused.returncode == 65
    assert "nothing was changed" in refused.stderr
    restored = run("restore", "--yes", str(tmp_path / "copy.sqlite"), home=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "Store restored" in restored.stdout


def test_errors_are_one_line_with_an_exit_code_from_their_type(tmp_path: Path) -> None:
    missing = run("restore", "--yes", str(tmp_path / "nope.sqlite"), home=tmp_path)
    assert missing.returncode == 66
    assert missing.stderr.strip().startswith("error:")
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr

    unreachable = run("--db", "postgresql://nobody@127.0.0.1:1/none", "init", home=tmp_path)
    assert unreachable.returncode == 74
    assert "cannot open the database" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr

    bad_url = run("--db", "mysql://x@y/z", "init", home=tmp_path)
    assert bad_url.returncode == 78
    assert "unsupported database" in bad_url.stderr

    debug = run("--debug", "restore", "--yes", str(tmp_path / "nope.sqlite"), home=tmp_path)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr


def test_commands_refuse_a_store_without_schema(tmp_path: Path) -> None:
    result = run("backup", str(tmp_path / "b.sqlite"), home=tmp_path)
    assert result.returncode == 78
    assert "clientbase init" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["init", "--help"], ["backup", "--help"]])
def test_help_teaches(args: list[str], tmp_path: Path) -> None:
    result = run(*args, home=tmp_path)
    assert result.returncode == 0
    assert "Usage" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("customers", "--format", "bogus"), "Invalid value for '--format'"),
        (("score", "--compute", "x"), "Invalid value for '--compute'"),
        (("no-such-command",), "No such command"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_not_an_internal_one(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    done = run(*args, home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "internal error" not in done.stderr
    assert "--help" in done.stderr
