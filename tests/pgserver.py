"""Finding a PostgreSQL server for the tests, or starting a throwaway one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class PgServer:
    url: str
    _stop: list[str] = field(default_factory=list)
    _user: str | None = None

    def stop(self) -> None:
        if self._stop:
            _run_as(self._stop, self._user)


def _answers(url: str) -> str | None:
    try:
        with psycopg.connect(f"{url}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as(cmd: list[str], user: str | None) -> None:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def find_or_start_postgres(workdir: Path) -> PgServer:
    """Return a reachable server: the configured one, the local default, or a new cluster."""
    tried: list[str] = []
    configured = os.environ.get("CLIENTBASE_TEST_PG_URL")
    candidates = [configured] if configured else []
    candidates.append("postgresql://postgres@127.0.0.1:5432")
    for url in candidates:
        problem = _answers(url)
        if problem is None:
            return PgServer(url=url.rstrip("/"))
        tried.append(f"{url}: {problem}")

    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    initdb = shutil.which("initdb") or next(
        (str(d / "initdb") for d in bindirs if (d / "initdb").exists()), None
    )
    if initdb is None:
        raise PostgresUnavailable(
            "; ".join(tried)
            + "; and no `initdb` to start one (install PostgreSQL: apt-get install postgresql)"
        )
    bindir = Path(initdb).parent
    user = "postgres" if os.geteuid() == 0 else None
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    if user:
        shutil.chown(workdir, user)
        shutil.chown(data, user)
    port = _free_port()
    try:
        _run_as([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"], user)
        _run_as(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(workdir / "log"),
                "-o",
                f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-w",
                "start",
            ],
            user,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise PostgresUnavailable("; ".join(tried) + f"; starting one failed: {exc}") from exc
    url = f"postgresql://postgres@127.0.0.1:{port}"
    for _ in range(50):
        if _answers(url) is None:
            break
        time.sleep(0.1)
    stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    return PgServer(url=url, _stop=stop, _user=user)
