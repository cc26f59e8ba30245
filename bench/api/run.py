"""API latency under concurrent clients: customer list, customer 360, overview.

Serves the store given by ``--db`` with ``clientbase serve`` (a child process on
127.0.0.1), creates an API token for ``--user``, and keeps ``--clients`` concurrent
connections busy (closed loop, no think time) for ``--seconds`` per endpoint. Prints
p50/p95/p99 (ms), requests and errors (non-2xx/3xx answers, timeouts, socket errors).

``--generator wrk`` (the default when ``wrk`` is on the PATH: Debian's ``apt-get install
wrk``) drives the load from one native thread with a Lua script that rotates the customer
ids of the 360, so the load generator takes little of the CPU the server needs;
``--generator httpx`` runs ``--clients`` asyncio httpx clients in this process instead.

CPU per request: the CPU seconds the server's processes, the database's processes
(PostgreSQL's backends on this machine; none for SQLite) and the load generator used while
an endpoint was measured, from ``/proc`` (Linux), divided by its requests. Latency on a
closed loop follows the throughput, which these figures explain and which, unlike the
latencies, compare across machines of different speed; the header names the CPU.

``--workers`` is passed to ``clientbase serve``. Before each endpoint is measured, its
requests run unmeasured for ``--warmup`` seconds, so the table shows the steady state
(cached figures, warm pages); the first request of each endpoint and worker is printed
apart as the cold start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import or_, select

from clientbase.security.actor import Actor
from clientbase.services.sign_in import create_token
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Customer, User


def make_url_backend(db: str) -> str:
    return "PostgreSQL" if db.startswith("postgres") else "SQLite"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: parent pid, command line and CPU seconds so far (``/proc``)."""
    found: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS
        found[int(entry.name)] = (int(fields[1]), command, cpu)
    return found


def _cpu_by_side(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (its process and descendants), of PostgreSQL's
    processes, and of this process's finished children (the load generator)."""
    table = _processes()
    server = {server_pid}
    grew = True
    while grew:
        grown = {pid for pid, (parent, _, _) in table.items() if parent in server}
        grew = not grown <= server
        server |= grown
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    database = (cpu for _, command, cpu in table.values() if command.startswith("postgres"))
    return {
        "server": sum(table[pid][2] for pid in server if pid in table),
        "database": sum(database),
        "generator": children.ru_utime + children.ru_stime,
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} × {os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} × {os.cpu_count()}"


def _setup(db: str, username: str) -> tuple[str, list[int]]:
    engine = open_engine(db)
    token = create_token(engine, Actor.local_operator(), username, "bench-api", days=1)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.username == username))
        team = select(User.id).where(or_(User.id == user_id, User.manager_id == user_id))
        ids = list(conn.scalars(select(Customer.id).where(Customer.owner_id.in_(team)).limit(5000)))
    engine.dispose()
    return token, ids


async def _load(base: str, token: str, paths: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.perf_counter() < deadline:
                path = random.choice(paths)
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client() for _ in range(clients)))
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"requests": len(latencies), "errors": errors, "p50": q[49], "p95": q[94], "p99": q[98]}


_LUA = """
local paths = {%(paths)s}
wrk.headers["Authorization"] = "Bearer %(token)s"
local n = #paths
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i * 7919) %% n + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def _wrk(base: str, token: str, paths: list[str], clients: int, seconds: float) -> dict:
    """One closed-loop wrk run; latencies from wrk's histogram (microsecond resolution)."""
    shuffled = random.sample(paths, len(paths))
    body = ",".join(f'"{p}"' for p in shuffled)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % {"paths": body, "token": token})
    try:
        out = subprocess.run(
            [
                "wrk",
                "--threads",
                "1",
                "--connections",
                str(clients),
                "--duration",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "--script",
                script.name,
                base + shuffled[0],
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    line = next(row for row in out.splitlines() if row.startswith("WRK "))
    requests, errors, p50, p95, p99 = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(errors),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a scored demo store")
    parser.add_argument("--user", default="m.horvath", help="who the clients sign in as")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds")
    parser.add_argument(
        "--generator",
        choices=("wrk", "httpx"),
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (default wrk when installed)",
    )
    parser.add_argument("--only", nargs="*", help="endpoints to run: list, 360, overview")
    parser.add_argument(
        "--target-ms", type=float, default=100.0, help="the p95 target (issue #5: 100 ms)"
    )
    args = parser.parse_args()
    token, ids = _setup(args.db, args.user)
    port = _port()
    env = {**os.environ, "CLIENTBASE_DB": args.db, "CLIENTBASE_DEMO": "true"}
    exe = Path(sys.executable).with_name("clientbase")
    server = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.25)
        cases = {
            "customer list": ["/api/v1/customers?limit=50"],
            "customer 360": [f"/api/v1/customers/{i}" for i in ids] or ["/api/v1/customers/1"],
            "overview": ["/api/v1/overview"],
        }
        short = {"customer list": "list", "customer 360": "360", "overview": "overview"}
        if args.only:
            cases = {k: v for k, v in cases.items() if short[k] in args.only}

        def load(paths: list[str], seconds: float) -> dict:
            if args.generator == "wrk":
                return _wrk(base, token, paths, args.clients, seconds)
            return asyncio.run(_load(base, token, paths, args.clients, seconds))

        cold: dict[str, float] = {}
        for name, paths in cases.items():
            started = time.perf_counter()
            httpx.get(base + paths[0], headers={"Authorization": f"Bearer {token}"}, timeout=120)
            cold[name] = (time.perf_counter() - started) * 1000
            if args.warmup > 0:
                load(paths, args.warmup)
        if args.warmup > 0 and "overview" in cases:
            # Each worker computes the overview's figures on its own first request; wait
            # until every worker answers from its cache, so that no measurement below
            # shares the CPU with a computation still running.
            for _ in range(20):
                if load(cases["overview"], 5)["p99"] < 1000:
                    break
        threads = os.environ.get("CLIENTBASE_THREADS", "default")
        print(
            f"{make_url_backend(args.db)}, workers {args.workers}, threads {threads}, "
            f"generator {args.generator}, warm-up {args.warmup:g} s per endpoint; "
            f"CPU {_cpu_name()}, load average before {os.getloadavg()[0]:.1f}"
        )
        print("cold first request (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in cold.items()))
        print(
            "| endpoint | clients | requests | errors | p50 ms | p95 ms | p99 ms "
            f"| p95 / {args.target_ms:g} ms | CPU ms per request: server / database / generator |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, paths in cases.items():
            before = _cpu_by_side(server.pid)
            r = load(paths, args.seconds)
            after = _cpu_by_side(server.pid)
            per = [
                (after[side] - before[side]) * 1000 / max(1, r["requests"])
                for side in ("server", "database", "generator")
            ]
            print(
                f"| {name} | {args.clients} | {r['requests']} | {r['errors']} | "
                f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                f"{r['p95'] / args.target_ms:.2f} | {per[0]:.2f} / {per[1]:.2f} / {per[2]:.2f} |"
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
