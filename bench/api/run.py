"""API latency under concurrent clients: customer list, customer 360, overview.

Serves the store given by ``--db`` with ``clientbase serve`` (a child process on
127.0.0.1), creates an API token for ``--user``, and runs ``--clients`` concurrent httpx
clients for ``--seconds`` per endpoint. Prints p50/p95/p99 (ms), requests and errors.

``--workers`` is passed to ``clientbase serve``. Before each endpoint is measured, its
requests run unmeasured for ``--warmup`` seconds, so the table shows the steady state
(cached figures, warm pages); the first request of each endpoint and worker is printed
apart as the cold start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import or_, select

from clientbase.security.actor import Actor
from clientbase.services.sign_in import create_token
from clientbase.storage.database import open_engine
from clientbase.storage.orm import Customer, User


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a scored demo store")
    parser.add_argument("--user", default="m.horvath", help="who the clients sign in as")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds")
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
        cold: dict[str, float] = {}
        for name, paths in cases.items():
            started = time.perf_counter()
            httpx.get(base + paths[0], headers={"Authorization": f"Bearer {token}"}, timeout=120)
            cold[name] = (time.perf_counter() - started) * 1000
            if args.warmup > 0:
                asyncio.run(_load(base, token, paths, args.clients, args.warmup))
        print(f"workers {args.workers}, warm-up {args.warmup:g} s per endpoint")
        print("cold first request (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in cold.items()))
        print("| endpoint | clients | requests | errors | p50 ms | p95 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, paths in cases.items():
            r = asyncio.run(_load(base, token, paths, args.clients, args.seconds))
            print(
                f"| {name} | {args.clients} | {r['requests']} | {r['errors']} | "
                f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} |"
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
