"""Score runs: every customer's features, rung, category and reasons, persisted as of a day.

``run_score`` follows the service pattern: authorise -> load (the store's activity through
Arrow) -> compute (features, the domain's rules) -> persist (the run row, then the
customers' rows in one bulk append) -> audit -> commit. A run is visible to readers only
once its status is ``completed``; a run that fails is left with status ``failed`` and no
customer rows.

Where the features are computed is a choice (``compute``, the ``CLIENTBASE_COMPUTE`` setting):

* ``process`` (the default): the store's tables are read into Arrow and the features computed
  in this process (:func:`clientbase.analytics.scoring.score_inputs`; the lifetime summary
  on an in-process DuckDB), on SQLite and PostgreSQL stores alike;
* ``database``: on a PostgreSQL store, the Ibis feature expression
  (:func:`clientbase.analytics.features.customer_features`, which the in-process features
  equal column for column) and the repeat-purchase summary of the lifetime step run inside
  the database over its own tables
  (:mod:`clientbase.analytics.store_inputs`), on one read-only snapshot; only one row per
  customer travels. The rules, the lifetime models and the persistence are the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import make_url

from clientbase.analytics.engine import Engine
from clientbase.analytics.features import customer_features
from clientbase.analytics.scoring import classify_features, score_inputs
from clientbase.analytics.sources import normalise_inputs, store_queries
from clientbase.analytics.store_inputs import store_inputs
from clientbase.config import Settings
from clientbase.domain.policy import Policy, default_policy, parse_policy, policy_hash
from clientbase.domain.vocabulary import Role
from clientbase.errors import ConfigurationError, NotFound, PermissionDenied, StorageError
from clientbase.security.actor import Actor
from clientbase.services import audit
from clientbase.services.database import connect
from clientbase.services.lifetime import LifetimeResult, lifetime_for_orders
from clientbase.storage.arrow_io import ArrowQuery, fetch_tables, store_dialect
from clientbase.storage.database import refresh_statistics
from clientbase.storage.orm import ScoreRun
from clientbase.storage.scores import append_scores
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "SCORING_ROLES",
    "Compute",
    "ScoreRunSummary",
    "compute_run",
    "compute_scores",
    "load_policy",
    "read_store",
    "require_scoring_role",
    "run_score",
]

#: Roles that may run a score run (it scores every customer). Reading scores is open to
#: every role, scoped by the query services (a representative reads their own customers).
SCORING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.ANALYST})

#: Where the features are computed: in this process, or inside the (PostgreSQL) store.
Compute = Literal["process", "database"]


@dataclass(frozen=True, slots=True)
class ScoreRunSummary:
    """What a score run did."""

    run_id: int
    as_of: date
    policy_hash: str
    duration_s: float
    customers_scored: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def require_scoring_role(actor: Actor) -> None:
    if actor.role not in SCORING_ROLES:
        raise PermissionDenied(f"{actor.username} may not run a score run")


def load_policy(path: Path | None) -> Policy:
    """The default policy, overridden by the TOML file at ``path`` when given."""
    if path is None:
        return default_policy()
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"no policy file at {path}") from exc
    return parse_policy(text, source=str(path))


def read_store(database_url: str, as_of: date) -> dict[str, pa.Table]:
    """The store's activity up to and including ``as_of``, normalised, as Arrow tables.

    A SQLite store is read by child processes (see :mod:`clientbase.storage.arrow_io`).
    """
    queries = store_queries(store_dialect(database_url), as_of)
    fetched = fetch_tables(
        database_url, {name: ArrowQuery(sql, split) for name, (sql, split) in queries.items()}
    )
    return normalise_inputs(fetched)


def compute_scores(
    database_url: str,
    as_of: date,
    policy: Policy,
    *,
    p_alive: pa.Table | None = None,
    engine: Engine | None = None,
    compute: Compute = "process",
) -> pa.Table:
    """Read the store as of ``as_of`` and score every customer (nothing is written)."""
    scores, _ = compute_run(
        database_url, as_of, policy, p_alive=p_alive, engine=engine, compute=compute
    )
    return scores


def compute_run(
    database_url: str,
    as_of: date,
    policy: Policy,
    *,
    p_alive: pa.Table | None = None,
    engine: Engine | None = None,
    compute: Compute = "process",
) -> tuple[pa.Table, LifetimeResult | None]:
    """Score every customer, with the lifetime-value step of the policy (issue #4).

    Unless ``p_alive`` is given, the policy's purchase and spend models are fitted on the
    store's purchase occasions as of ``as_of``; their P(alive) feeds the activity rule (the
    member rung and the "lost" category) and each buyer gets the expected purchases in the
    next 12 months and the CLV. When no model can be fitted, the rhythm rule decides alone
    and the returned :class:`LifetimeResult` says why.

    ``compute="database"`` computes the features and the repeat-purchase summary inside a
    PostgreSQL store (``engine`` is then not used); the results are the same.

    Raises
    ------
    ConfigurationError
        ``compute="database"`` on a store that is not PostgreSQL.
    """
    if compute == "database":
        scores, lifetime = _compute_in_database(database_url, as_of, policy, p_alive)
        return _with_lifetime(scores, lifetime), lifetime
    if compute != "process":
        raise ConfigurationError(f"unknown compute {compute!r}: use process or database")
    inputs = read_store(database_url, as_of)
    own = engine is None
    eng = engine or Engine()
    try:
        lifetime = None
        if p_alive is None and policy.lifetime.enabled:
            lifetime = lifetime_for_orders(inputs["orders"], as_of, policy.lifetime, eng)
            if lifetime.table is not None:
                p_alive = lifetime.table.select(["customer_id", "p_alive"])
        scores = score_inputs(inputs, as_of, policy, p_alive=p_alive)
    finally:
        if own:
            eng.close()
    return _with_lifetime(scores, lifetime), lifetime


def _with_lifetime(scores: pa.Table, lifetime: LifetimeResult | None) -> pa.Table:
    """``scores`` with each buyer's expected purchases and CLV from a fitted lifetime step."""
    if lifetime is None or lifetime.table is None:
        return scores
    index = pc.index_in(
        scores.column("customer_id"), value_set=lifetime.table.column("customer_id")
    )
    for name in ("expected_purchases_12m", "clv_minor"):
        values = pc.take(lifetime.table.column(name), index)
        position = scores.schema.get_field_index(name)
        if position >= 0:
            scores = scores.set_column(position, name, values)
        else:
            scores = scores.append_column(name, values)
    return scores


def _postgres_uri(database_url: str) -> str:
    """The libpq URI of a PostgreSQL store; refuse any other store clearly."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend != "postgresql":
        raise ConfigurationError(
            f"features can be computed inside the database only on a PostgreSQL store, "
            f"and this store is {backend}",
            hint="use --compute process (the default; CLIENTBASE_COMPUTE=process) with this store",
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _compute_in_database(
    database_url: str, as_of: date, policy: Policy, p_alive: pa.Table | None
) -> tuple[pa.Table, LifetimeResult | None]:
    """Features (and the lifetime summary) inside the PostgreSQL store, then the rules."""
    uri = _postgres_uri(database_url)
    try:
        import psycopg

        engine = Engine.in_postgres(uri)
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            f"in-database compute needs Ibis's PostgreSQL backend: {exc}",
            hint="install clientbase[postgres]",
        ) from exc
    except psycopg.Error as exc:
        raise StorageError(f"cannot open the PostgreSQL store: {exc}") from exc
    lifetime = None
    try:
        with engine, engine.snapshot():
            inputs = store_inputs(engine.source, as_of)
            if p_alive is None and policy.lifetime.enabled:
                lifetime = lifetime_for_orders(inputs.orders, as_of, policy.lifetime, engine)
                if lifetime.table is not None:
                    p_alive = lifetime.table.select(["customer_id", "p_alive"])
            features = engine.to_arrow(customer_features(inputs, as_of, policy))
    except psycopg.Error as exc:
        raise StorageError(f"the features could not be computed in the store: {exc}") from exc
    column = None
    if p_alive is not None:
        index = pc.index_in(features.column("customer_id"), value_set=p_alive.column("customer_id"))
        column = pc.take(p_alive.column("p_alive"), index)
    return classify_features(features, policy, column), lifetime


def _lifetime_note(lifetime: LifetimeResult | None, given: pa.Table | None) -> dict[str, Any]:
    """What the run's lifetime step did, for the run's notes (shown by explain and the UI)."""
    if lifetime is None:
        reason = "P(alive) supplied by the caller" if given is not None else "disabled"
        return {"fitted": False, "reason": reason}
    return {"fitted": lifetime.fitted, "reason": lifetime.reason, "params": lifetime.params}


def score_counts(scores: pa.Table) -> dict[str, dict[str, int]]:
    """Customers per rung, per category and per RFM segment."""

    def tally(name: str) -> dict[str, int]:
        counted = pc.value_counts(scores.column(name)).to_pylist()
        pairs = (
            ("none" if c["values"] is None else str(c["values"]), c["counts"]) for c in counted
        )
        return dict(sorted(pairs))

    return {
        "rung": tally("rung"),
        "category": tally("category"),
        "rfm_segment": tally("rfm_segment"),
    }


def run_score(
    settings: Settings,
    actor: Actor,
    *,
    as_of: date | None = None,
    policy_path: Path | None = None,
    p_alive: pa.Table | None = None,
    compute: Compute | None = None,
) -> ScoreRunSummary:
    """Score every customer as of ``as_of`` (default: today, UTC) and persist the run.

    ``compute`` says where the features are computed (default: the ``compute`` setting);
    see the module docstring.

    Raises
    ------
    PermissionDenied
        The actor's role may not run scores.
    ConfigurationError, NotFound
        The policy file is wrong or missing, or ``compute="database"`` on a store that is
        not PostgreSQL.
    StorageError
        The store could not be read or written (the run is marked ``failed``).
    """
    require_scoring_role(actor)
    policy = load_policy(policy_path)
    where: Compute = compute or settings.compute
    if where == "database":
        _postgres_uri(settings.database_url)  # refuse before a run row is written
    day = as_of or datetime.now(UTC).date()
    digest = policy_hash(policy)
    engine = connect(settings)
    try:
        started = time.perf_counter()
        with UnitOfWork(engine) as uow:
            run = ScoreRun(
                as_of=day,
                policy_hash=digest,
                status="running",
                customers_scored=0,
                notes={
                    "policy": policy.to_dict(),
                    "policy_source": str(policy_path) if policy_path else "default",
                    "p_alive": p_alive is not None,
                    "compute": where,
                },
                started_by_id=actor.user_id,
            )
            uow.session.add(run)
            uow.session.flush()
            run_id = run.id
            uow.commit()
        # Bulk reads and writes of a SQLite store run in child processes (their ADBC
        # driver is a second copy of SQLite), so this engine's connections may stay open.
        try:
            scores, lifetime = compute_run(
                settings.database_url, day, policy, p_alive=p_alive, compute=where
            )
            written = append_scores(settings.database_url, run_id, scores)
            with engine.begin() as conn:  # the new run's rows, for the planner
                refresh_statistics(conn, ["customer_scores"])
        except BaseException:
            with UnitOfWork(engine) as uow:
                failed = uow.session.get(ScoreRun, run_id)
                if failed is not None:
                    failed.status = "failed"
                    failed.finished_at = datetime.now(UTC).replace(tzinfo=None)
                uow.commit()
            raise
        counts = score_counts(scores)
        duration = time.perf_counter() - started
        with UnitOfWork(engine) as uow:
            done = uow.session.get(ScoreRun, run_id)
            assert done is not None
            done.status = "completed"
            done.finished_at = datetime.now(UTC).replace(tzinfo=None)
            done.duration_s = duration
            done.customers_scored = written
            done.counts = counts
            done.notes = {**(done.notes or {}), "lifetime": _lifetime_note(lifetime, p_alive)}
            detail: dict[str, Any] = {
                "as_of": day.isoformat(),
                "policy_hash": digest,
                "customers": written,
                "rung": counts["rung"],
            }
            audit.record(
                uow.session, actor, "score.run", entity="score_run", entity_id=run_id, detail=detail
            )
            uow.commit()
    finally:
        engine.dispose()
    return ScoreRunSummary(run_id, day, digest, duration, written, counts)
