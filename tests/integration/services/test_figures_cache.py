"""The figures cache computes once for concurrent misses, and expires."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, create_engine

from clientbase.services.access import FiguresCache


def test_concurrent_misses_compute_once() -> None:
    engine = create_engine("sqlite://")
    cache = FiguresCache(60.0)
    calls = 0
    start = threading.Barrier(20)
    results: list[int] = []

    def compute() -> int:
        nonlocal calls
        calls += 1
        time.sleep(0.2)
        return 42

    def ask() -> None:
        start.wait()
        results.append(cache.get(engine, ("run", 1), compute))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == 1
    assert results == [42] * 20
    assert cache.get(engine, ("run", 2), lambda: 7) == 7  # another key computes its own


def _wait_for(cache: FiguresCache, engine: Engine, key: str, expected: int) -> None:
    """Until the background recomputation stored ``expected`` (the compute given here is
    never called: the key is found)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found, _, value = cache._lookup(engine, key)
        if found and value == expected:
            return
        time.sleep(0.01)
    raise AssertionError(f"{key} never became {expected}")


def test_expired_and_failed_values_are_computed_again() -> None:
    engine = create_engine("sqlite://")
    cache = FiguresCache(0.0)
    assert cache.get(engine, "k", lambda: 1) == 1
    time.sleep(0.01)
    assert cache.get(engine, "k", lambda: 2) == 1  # expired: served, computed again behind
    _wait_for(cache, engine, "k", 2)

    def fail() -> int:
        raise RuntimeError("boom")

    lasting = FiguresCache(60.0)
    with pytest.raises(RuntimeError):
        lasting.get(engine, "k", fail)
    assert lasting.get(engine, "k", lambda: 3) == 3


def test_a_failed_recomputation_keeps_the_expired_value() -> None:
    engine = create_engine("sqlite://")
    cache = FiguresCache(0.0)
    assert cache.get(engine, "k", lambda: 1) == 1

    def fail() -> int:
        raise RuntimeError("boom")

    assert cache.get(engine, "k", fail) == 1
    time.sleep(0.1)
    assert cache.get(engine, "k", lambda: 5) == 1  # still there; this one recomputes
    _wait_for(cache, engine, "k", 5)


def test_an_expired_value_is_served_at_once_while_it_is_computed_again() -> None:
    engine = create_engine("sqlite://")
    cache = FiguresCache(0.05)
    assert cache.get(engine, "k", lambda: 1) == 1
    time.sleep(0.1)
    computing = threading.Event()
    release = threading.Event()
    calls = 0

    def slow() -> int:
        nonlocal calls
        calls += 1
        computing.set()
        release.wait(5)
        return 2

    started = time.monotonic()
    assert cache.get(engine, "k", slow) == 1  # the expired value, at once
    assert computing.wait(5)
    assert cache.get(engine, "k", slow) == 1  # still; no second computation starts
    assert time.monotonic() - started < 1
    assert cache.get(engine, "other", lambda: 4) == 4  # another key is never served it
    release.set()
    _wait_for(cache, engine, "k", 2)
    assert calls == 1
    assert cache.get(engine, "k", lambda: 5) == 2
