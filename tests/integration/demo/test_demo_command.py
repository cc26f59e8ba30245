"""``clientbase demo`` as a user runs it: a real process, its summary and its exit codes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def _demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTBASE_HOME": str(home), "COLUMNS": "200"}
    env.pop("CLIENTBASE_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "clientbase", "demo", "--customers", "300", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_demo_builds_the_embedded_store_then_refuses_or_replaces_it(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Demo business built at" in first.stdout
    assert "renamed into place" in first.stdout
    store = tmp_path / "clientbase.sqlite"
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone() == (300,)
    refused = _demo(tmp_path, "--seed", "2")
    assert refused.returncode == 75  # Conflict
    assert "--replace" in refused.stdout + refused.stderr
    replaced = _demo(tmp_path, "--seed", "2", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert [p.name for p in tmp_path.iterdir() if ".build-" in p.name] == []
