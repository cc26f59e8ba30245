"""`clientbase serve --workers 2 --db URL` serves the store named on the command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_worker_processes_open_the_store_given_by_db(tmp_path: Path, sqlite_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "CLIENTBASE_HOME": str(tmp_path / "elsewhere"), "CLIENTBASE_DEMO": "true"}
    env.pop("CLIENTBASE_DB", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clientbase",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--db",
            sqlite_url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    status = r.status
                    page = r.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert status == 200, process.stdout.read() if process.stdout else ""
        assert "clientbase" in page
        # The workers use the store given by --db, not the (empty) CLIENTBASE_HOME.
        assert not (tmp_path / "elsewhere" / "clientbase.sqlite").exists()
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.slow
def test_a_port_in_use_is_refused_with_a_clear_message(tmp_path: Path, sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**os.environ, "CLIENTBASE_HOME": str(tmp_path), "CLIENTBASE_DEMO": "true"}
        command = [sys.executable, "-m", "clientbase", "serve", "--workers", "2"]
        done = subprocess.run(
            [*command, "--port", str(port), "--db", sqlite_url],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 78, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stdout + done.stderr


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_cleanly(tmp_path: Path, sqlite_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "CLIENTBASE_HOME": str(tmp_path), "CLIENTBASE_DEMO": "true"}
    command = [sys.executable, "-m", "clientbase", "serve", "--workers", "2"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--db", sqlite_url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        deadline = time.monotonic() + 90
        served = 0
        while time.monotonic() < deadline and served < 2:
            try:  # new connections: with SO_REUSEPORT they reach both workers
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5):
                    served += 1
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert served == 2
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C does: the whole group
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
