"""The worker processes of ``clientbase serve``, each with its own listening socket.

Uvicorn's own ``--workers`` share one listening socket, and an asyncio server accepts every
connection waiting on it at once: the first worker to wake up took all the connections
of a burst (50 keep-alive clients all landed on one of two workers), so one process served
everyone while the other idled. Here every worker binds the port itself with
``SO_REUSEPORT``, and the Linux kernel spreads new connections over the workers' sockets.

The supervisor (the ``serve`` process) starts the workers, restarts one that dies, and
stops them all on SIGINT or SIGTERM. Where ``SO_REUSEPORT`` does not balance connections
(anything but Linux), ``serve`` keeps uvicorn's own workers.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from contextlib import suppress
from types import FrameType
from typing import Any

from clientbase.cli.common import err_console
from clientbase.errors import ConfigurationError

__all__ = ["balanced_workers_supported", "run_workers"]

#: A worker that dies sooner than this after its start counts as failing to start.
_START_SECONDS = 20.0
#: Workers failing to start in a row before the supervisor gives up.
_MAX_START_FAILURES = 3


def balanced_workers_supported() -> bool:
    """Whether the kernel balances connections over ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_free(host: str, port: int) -> None:
    """Fail at once when another program listens on the port (without the probe's
    ``SO_REUSEPORT`` the bind fails even against sockets that have it)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="choose another --port or stop the program using it",
            ) from exc


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(app: str, host: str, port: int) -> None:  # pragma: no cover - a child process
    import uvicorn

    sock = _listen(host, port)
    config = uvicorn.Config(app, factory=True, log_level="warning", access_log=False)
    with suppress(KeyboardInterrupt):  # Ctrl+C reaches every worker: a clean stop
        uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    def __init__(self, app: str, host: str, port: int, count: int) -> None:
        self._args = (app, host, port)
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, float]] = []
        self._stopping = False

    def _start(self) -> tuple[Any, float]:
        process = self._context.Process(target=_worker, args=self._args, daemon=False)
        process.start()
        return process, time.monotonic()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        failures = 0
        try:
            self._workers = [self._start() for _ in range(self._count)]
            while not self._stopping:
                time.sleep(0.25)
                for i, (process, started) in enumerate(self._workers):
                    if process.is_alive() or self._stopping:
                        continue
                    early = time.monotonic() - started < _START_SECONDS
                    failures = failures + 1 if early else 0
                    if failures >= _MAX_START_FAILURES:
                        err_console.print(
                            f"a server worker failed to start {failures} times "
                            f"(exit code {process.exitcode}); stopping"
                        )
                        return 1
                    self._workers[i] = self._start()
            return 0
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self._shutdown()

    def _shutdown(self) -> None:
        for process, _ in self._workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 30
        for process, _ in self._workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def run_workers(app: str, host: str, port: int, count: int) -> int:
    """Serve the application factory ``app`` ("module:function") from ``count`` processes,
    each listening on ``host:port`` itself; returns the exit status when stopped."""
    _check_free(host, port)
    return _Supervisor(app, host, port, count).run()
