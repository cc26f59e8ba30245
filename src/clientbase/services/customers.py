"""Customer use cases: list (filters, search, keyset pages), detail with timeline, create, update.

Every query is restricted to the actor's scope (:mod:`clientbase.security.rbac`) in SQL, so
lists, counts and totals only ever cover what the actor may see; personal data is blanked
for pseudonymised scopes before it leaves the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from clientbase.errors import InvalidInput, NotFound
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, Scope, require
from clientbase.services.access import (
    FiguresCache,
    audited_denials,
    customer_clause,
    load_scope,
    visible_customer,
)
from clientbase.services.audit import record, record_read, record_read_async
from clientbase.services.customer_fields import (
    PERSONAL_FIELDS,
    CustomerFields,
    CustomerPatch,
)
from clientbase.storage.database import reader
from clientbase.storage.orm import Customer, CustomerScore, Event, Order, ScoreRun, User
from clientbase.storage.plain import PlainConnection, PlainQuery, plain_connection, plain_reader
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "AT_RISK_SEGMENTS",
    "SEGMENTS",
    "CustomerDetail",
    "CustomerFilter",
    "CustomerPage",
    "CustomerRead",
    "CustomerView",
    "ReadState",
    "RunRef",
    "ScoreView",
    "TimelineItem",
    "create_customer",
    "get_customer",
    "latest_run",
    "list_customers",
    "read_customer",
    "read_state",
    "update_customer",
]

MAX_PAGE = 500
#: How long a list's total is kept (see :func:`list_customers`).
TOTAL_SECONDS = 60.0
_totals = FiguresCache(TOTAL_SECONDS)
#: Named lists of the dashboard: customers slipping away (RFM segments, not yet lost) and
#: customers who cost more than they earn.
AT_RISK_SEGMENTS = ("at_risk", "cant_lose", "about_to_sleep")
SEGMENTS = ("at_risk", "loss_makers")
_PROFILE_FIELDS = (
    "kind",
    *PERSONAL_FIELDS,
    "gender",
    "birth_year",
    "income_band",
    "occupation",
    "industry",
    "company_size",
    "country",
    "region",
    "city",
    "postcode",
    "interests",
    "lifestyle",
    "attitudes",
    "values",
    "acquisition_channel",
    "acquired_at",
)


_customers = Customer.__table__
_scores = CustomerScore.__table__
_owners = User.__table__.alias("owner")
#: What a list row reads, in the order of :class:`CustomerView`'s fields: the customer's and
#: the latest score's columns it shows, and the owner's name.
_LIST_COLUMNS = (
    _customers.c.id,
    _customers.c.kind,
    _customers.c.name,
    _customers.c.email,
    _customers.c.phone,
    _customers.c.city,
    _customers.c.country,
    _customers.c.acquisition_channel,
    _customers.c.owner_id,
    _owners.c.display_name.label("owner_name"),
    _customers.c.created_at,
    _scores.c.rung,
    _scores.c.category,
    _scores.c.net_contribution_minor,
    _scores.c.clv_minor,
    _scores.c.p_alive,
)
#: The same for a pseudonymised scope: personal columns are not even read.
_PSEUDONYMOUS_COLUMNS = tuple(
    null().label(c.name) if c.name in PERSONAL_FIELDS else c for c in _LIST_COLUMNS
)


def _list_query(pseudonymise: bool) -> Any:
    """A page of list rows with the latest run's scores (run id bound as ``run_id``)."""
    return (
        select(*(_PSEUDONYMOUS_COLUMNS if pseudonymise else _LIST_COLUMNS))
        .select_from(
            _customers.outerjoin(
                _scores,
                (_scores.c.customer_id == _customers.c.id)
                & (_scores.c.run_id == bindparam("run_id")),
            ).outerjoin(_owners, _owners.c.id == _customers.c.owner_id)
        )
        .order_by(_customers.c.id)
    )


_LIST = {False: _list_query(False), True: _list_query(True)}


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Filters of the customer list; ``q`` searches (see :func:`list_customers`)."""

    q: str | None = None
    kind: str | None = None
    channel: str | None = None
    country: str | None = None
    city: str | None = None
    owner_id: int | None = None
    rung: int | None = None
    category: str | None = None
    segment: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreView:
    run_id: int
    as_of: date
    rung: int
    category: str | None
    net_contribution_minor: int | None
    p_alive: float | None
    expected_purchases_12m: float | None
    clv_minor: int | None
    reason_codes: list[str]


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    kind: str
    name: str | None
    email: str | None
    phone: str | None
    city: str | None
    country: str | None
    acquisition_channel: str
    owner_id: int | None
    owner_name: str | None
    created_at: datetime
    rung: int | None
    category: str | None
    net_contribution_minor: int | None
    clv_minor: int | None
    p_alive: float | None


@dataclass(frozen=True, slots=True)
class CustomerPage:
    items: list[CustomerView]
    total: int
    next_after: int | None
    pseudonymised: bool


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    kind: str
    amount_minor: int | None
    cost_minor: int | None
    status: str | None
    rating: int | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    id: int
    profile: dict[str, Any]
    owner_id: int | None
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    score: ScoreView | None
    timeline: list[TimelineItem] = field(default_factory=list)
    pseudonymised: bool = False


def latest_run(session: Session) -> ScoreRun | None:
    """The newest score run that finished (``None`` before the first ``clientbase score``)."""
    return session.scalars(
        select(ScoreRun)
        .where(ScoreRun.status.not_in(("running", "failed")))
        .order_by(ScoreRun.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True, slots=True)
class RunRef:
    """A finished score run's id and as-of date: all that the busy reads need of it."""

    id: int
    as_of: date


_runs = ScoreRun.__table__


def _finished_run(column: Any, offset: int) -> Any:
    """``column`` of the newest finished run (``offset`` 1: the one before), as a value."""
    return (
        select(column)
        .where(_runs.c.status.not_in(("running", "failed")))
        .order_by(_runs.c.id.desc())
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class ReadState:
    """What the cached figures depend on: the two newest finished runs (newest first; fewer
    when there are not two) and the highest customer id (so a new customer counts at once)."""

    runs: list[RunRef]
    newest_customer_id: int


_READ_STATE = select(
    _finished_run(_runs.c.id, 0).label("run_id"),
    _finished_run(_runs.c.as_of, 0).label("run_as_of"),
    _finished_run(_runs.c.id, 1).label("previous_id"),
    _finished_run(_runs.c.as_of, 1).label("previous_as_of"),
    select(func.max(_customers.c.id)).scalar_subquery().label("newest_customer_id"),
)
_READ_STATE_PLAIN = PlainQuery(_READ_STATE)


def read_state(conn: PlainConnection) -> ReadState:
    """The newest runs and customer id in one statement (one round trip to the store)."""
    # A SELECT of scalar subqueries only: always one row.
    run_id, run_as_of, previous_id, previous_as_of, newest_customer_id = _READ_STATE_PLAIN.rows(
        conn
    )[0]
    runs = [RunRef(run_id, run_as_of)] if run_id is not None else []
    if previous_id is not None:
        runs.append(RunRef(previous_id, previous_as_of))
    return ReadState(runs, int(newest_customer_id or 0))


def _filtered(
    stmt: Any, scope: Scope, flt: CustomerFilter, run_id: int | None, owner_column: Any = None
) -> Any:
    c, sc = _customers.c, _scores.c
    stmt = stmt.where(customer_clause(scope, c.owner_id if owner_column is None else owner_column))
    if flt.kind:
        stmt = stmt.where(c.kind == flt.kind)
    if flt.channel:
        stmt = stmt.where(c.acquisition_channel == flt.channel)
    if flt.country:
        stmt = stmt.where(c.country == flt.country.upper())
    if flt.city:
        stmt = stmt.where(func.lower(c.city) == flt.city.strip().lower())
    if flt.owner_id is not None:
        stmt = stmt.where(c.owner_id == flt.owner_id)
    if flt.rung is not None or flt.category or flt.segment:
        scored = select(sc.customer_id).where(sc.run_id == (run_id or -1))
        if flt.rung is not None:
            scored = scored.where(sc.rung == flt.rung)
        if flt.category:
            scored = scored.where(sc.category == flt.category)
        if flt.segment == "at_risk":
            scored = scored.where(
                sc.rfm_segment.in_(AT_RISK_SEGMENTS),
                or_(sc.category.is_(None), sc.category != "lost"),
            )
        elif flt.segment == "loss_makers":
            scored = scored.where(sc.net_contribution_minor < 0)
        elif flt.segment:
            raise InvalidInput(f"unknown list {flt.segment!r}; use one of {', '.join(SEGMENTS)}")
        stmt = stmt.where(c.id.in_(scored))
    if flt.q and flt.q.strip():
        stmt = stmt.where(_search(flt.q.strip(), scope))
    return stmt


def _count(engine: Engine, scope: Scope, flt: CustomerFilter, run_id: int | None) -> int:
    """How many customers in scope match the filters (in a unit of work of its own: the
    figures cache may count again in the background)."""
    with reader(engine).connect() as conn:
        stmt = _filtered(select(func.count(_customers.c.id)), scope, flt, run_id)
        return int(conn.execute(stmt).scalar() or 0)


@lru_cache(maxsize=256)
def _page_query(
    scope: Scope, flt: CustomerFilter, run_id: int | None, dense: bool, paged: bool, limit: int
) -> PlainQuery:
    """The statement of one list page (bound: ``run_id`` and, when ``paged``, ``after``).

    Kept per scope, filters and page size, as a plain query compiled once (the scope's
    owner list and the filters' values are fixed in it).
    ``dense``: matches are spread over the whole id range, so walking the primary key in
    order finds a page at once where the owner index would sort every match first (the
    owner column is wrapped to keep SQLite off that index, see :func:`_dense`).
    """
    owner_column = _customers.c.owner_id + 0 if dense else None
    stmt = _filtered(_LIST[scope.pseudonymise], scope, flt, run_id, owner_column)
    runtime = {"run_id": 0}
    if paged:
        stmt = stmt.where(_customers.c.id > bindparam("after"))
        runtime["after"] = 0
    return PlainQuery(stmt.limit(limit + 1), **runtime)


def _dense(engine: Engine, scope: Scope, total: int, newest: int) -> bool:
    """Whether a scoped list should walk ids in order rather than use the owner index.

    Only SQLite needs the hint (PostgreSQL's planner weighs it from statistics): when the
    scope holds at least 1 % of the ids, a page is found within a few thousand rows.
    """
    return (
        engine.dialect.name == "sqlite"
        and scope.owner_ids is not None
        and newest > 0
        and total * 100 >= newest
    )


def _search(q: str, scope: Scope) -> Any:
    """Search by id, city, and, unless pseudonymised, name, exact e-mail or phone digits."""
    c = _customers.c
    terms: list[Any] = [func.lower(c.city) == q.lower()]
    if q.isdigit():
        terms.append(c.id == int(q))
    if not scope.pseudonymise:
        if "@" in q:
            terms.append(func.lower(c.email) == q.lower())
        elif sum(ch.isdigit() for ch in q) >= 6:
            digits = "".join(ch for ch in q if ch.isdigit())
            terms.append(func.replace(func.replace(c.phone, " ", ""), "-", "").contains(digits))
        else:
            terms.append(func.lower(c.name).contains(q.lower(), autoescape=True))
    return or_(*terms)


def _contact_lookup(flt: CustomerFilter) -> str | None:
    q = (flt.q or "").strip()
    if "@" in q:
        return "email"
    if sum(ch.isdigit() for ch in q) >= 6 and not q.isdigit():
        return "phone"
    return None


def list_customers(
    engine: Engine,
    actor: Actor,
    flt: CustomerFilter | None = None,
    *,
    after: int | None = None,
    limit: int = 50,
) -> CustomerPage:
    """One page of the customers the actor may see, ordered by id (keyset: ``after``).

    ``total`` counts every visible customer matching the filters, not just this page. It is
    counted once per (score run, scope, filters, newest customer) and kept for
    :data:`TOTAL_SECONDS`, so paging through a large list does not count it again on every
    page: a new customer is counted at once, other changes within that time.
    """
    flt = flt or CustomerFilter()
    limit = max(1, min(limit, MAX_PAGE))
    # Plain rows of plain columns (storage.plain): loading ORM entities (and decoding every
    # JSON column of every customer) cost most of a page's CPU, SQLAlchemy's rows much of
    # the rest.
    with audited_denials(engine, actor, "customers.list"), plain_reader(engine) as conn:
        require(actor, Permission.CUSTOMERS_READ)
        scope = load_scope(conn, actor)
        state = read_state(conn)
        run_id = state.runs[0].id if state.runs else None
        newest = state.newest_customer_id
        key = (run_id, scope.owner_ids, scope.pseudonymise, flt, newest)
        total = _totals.get(engine, key, lambda: _count(engine, scope, flt, run_id))
        dense = _dense(engine, scope, total, newest)
        query = _page_query(scope, flt, run_id, dense, after is not None, limit)
        params = {"run_id": run_id or -1}
        if after is not None:
            params["after"] = after
        rows = query.rows(conn, **params)
        items = [CustomerView(*row) for row in rows[:limit]]
        page = CustomerPage(
            items=items,
            total=int(total),
            next_after=items[-1].id if len(rows) > limit else None,
            pseudonymised=scope.pseudonymise,
        )
    lookup = _contact_lookup(flt)
    if lookup and not scope.pseudonymise:
        detail = {"by": lookup, "found": len(items)}
        record_read(engine, actor, "customer.lookup", detail=detail)
    return page


_orders = Order.__table__
_events = Event.__table__


def _newest(*columns: Any, at: Any) -> Any:
    """The ``limit`` newest rows of one customer's orders or events, as a union member."""
    table = at.table
    return (
        select(*columns)
        .where(table.c.customer_id == bindparam("customer_id"))
        .order_by(at.desc())
        .limit(bindparam("limit"))
        .subquery()
        .select()
    )


#: The newest orders and events of a customer in one statement (a round trip fewer).
_TIMELINE = union_all(
    _newest(
        _orders.c.ordered_at.label("at"),
        literal("order").label("kind"),
        _orders.c.total_minor.label("amount_minor"),
        _orders.c.cost_minor,
        _orders.c.status,
        cast(null(), _events.c.rating.type).label("rating"),  # typed: PostgreSQL unions
        _orders.c.external_id,
        at=_orders.c.ordered_at,
    ),
    _newest(
        _events.c.occurred_at,
        _events.c.kind,
        _events.c.amount_minor,
        _events.c.cost_minor,
        _events.c.status,
        _events.c.rating,
        _events.c.external_id,
        at=_events.c.occurred_at,
    ),
)


_TIMELINE_PLAIN = PlainQuery(_TIMELINE, customer_id=0, limit=0)


def _timeline(conn: PlainConnection, customer_id: int, limit: int = 200) -> list[TimelineItem]:
    """The newest orders and events, read as plain rows (no ORM entities: cheaper)."""
    items = [
        TimelineItem(
            at=at,
            kind=kind,
            amount_minor=amount,
            cost_minor=cost,
            status=status,
            rating=rating,
            reference=ref,
        )
        for at, kind, amount, cost, status, rating, ref in _TIMELINE_PLAIN.rows(
            conn, customer_id=customer_id, limit=limit
        )
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


#: The score columns of the 360, then the names of its reason codes among them.
_SCORE_COLUMNS = (
    _scores.c.rung,
    _scores.c.category,
    _scores.c.net_contribution_minor,
    _scores.c.p_alive,
    _scores.c.expected_purchases_12m,
    _scores.c.clv_minor,
    _scores.c.rung_reason,
    _scores.c.rung_blocker,
    _scores.c.category_reason,
)
_DETAIL = (
    select(
        *(_customers.c[name] for name in _PROFILE_FIELDS),
        _customers.c.owner_id,
        _owners.c.display_name.label("owner_name"),
        _customers.c.created_at,
        _customers.c.updated_at,
        _scores.c.run_id.label("score_run_id"),
        _finished_run(_runs.c.as_of, 0).label("run_as_of"),
        *_SCORE_COLUMNS,
    )
    .select_from(
        _customers.outerjoin(_owners, _owners.c.id == _customers.c.owner_id).outerjoin(
            _scores,
            (_scores.c.customer_id == _customers.c.id)
            & (_scores.c.run_id == _finished_run(_runs.c.id, 0)),
        )
    )
    .where(_customers.c.id == bindparam("customer_id"))
)
_DETAIL_PLAIN = PlainQuery(_DETAIL, customer_id=0)


def _detail(
    conn: PlainConnection, customer_id: int, scope: Scope, *, timeline: bool
) -> CustomerDetail:
    """The customer 360 of a customer in scope, read as plain columns in one statement (the
    profile, the owner's name and the latest finished run's score) and the timeline in one
    more.

    Out of scope or missing: :class:`NotFound` (so an existence does not leak).
    """
    found = _DETAIL_PLAIN.first(conn, customer_id=customer_id)
    row = dict(zip(_DETAIL_PLAIN.names, found, strict=True)) if found is not None else None
    if row is None or not scope.sees_owner(row["owner_id"]):
        raise NotFound(f"no customer {customer_id}")
    score = None
    if row["score_run_id"] is not None:
        score = ScoreView(
            run_id=row["score_run_id"],
            as_of=row["run_as_of"],
            rung=row["rung"],
            category=row["category"],
            net_contribution_minor=row["net_contribution_minor"],
            p_alive=row["p_alive"],
            expected_purchases_12m=row["expected_purchases_12m"],
            clv_minor=row["clv_minor"],
            reason_codes=[
                str(code)
                for code in (row["rung_reason"], row["rung_blocker"], row["category_reason"])
                if code
            ],
        )
    hidden = scope.pseudonymise
    return CustomerDetail(
        id=customer_id,
        profile={
            name: None if hidden and name in PERSONAL_FIELDS else row[name]
            for name in _PROFILE_FIELDS
        },
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        score=score,
        timeline=_timeline(conn, customer_id) if timeline else [],
        pseudonymised=hidden,
    )


@dataclass(frozen=True, slots=True)
class CustomerRead:
    """A customer 360 that has been read but not handed out yet: its read of personal data
    is audited on the way out, by :meth:`audited` (waits in the thread) or
    :meth:`audited_async` (waits as a coroutine, holding no thread)."""

    _engine: Engine
    _actor: Actor
    _detail: CustomerDetail

    def _entry(self) -> dict[str, Any] | None:
        """The read-audit entry due (``None`` for a pseudonymised read: nothing personal)."""
        if self._detail.pseudonymised:
            return None
        return {"action": "customer.read", "entity": "customer", "entity_id": self._detail.id}

    def audited(self) -> CustomerDetail:
        if (entry := self._entry()) is not None:
            record_read(self._engine, self._actor, **entry)
        return self._detail

    async def audited_async(self) -> CustomerDetail:
        if (entry := self._entry()) is not None:
            await record_read_async(self._engine, self._actor, **entry)
        return self._detail


def read_customer(engine: Engine, actor: Actor, customer_id: int) -> CustomerRead:
    """The customer 360, read; see :func:`get_customer`. The API reads it on a worker thread
    and awaits the audit (:meth:`CustomerRead.audited_async`), so that every read in flight
    can share one audit transaction."""
    denials = audited_denials(engine, actor, "customer.read", customer_id=customer_id)
    # Two statements of plain columns, run as plain reads (storage.plain), no ORM session.
    with denials, plain_reader(engine) as conn:
        require(actor, Permission.CUSTOMERS_READ)
        scope = load_scope(conn, actor)
        return CustomerRead(engine, actor, _detail(conn, customer_id, scope, timeline=True))


def get_customer(engine: Engine, actor: Actor, customer_id: int) -> CustomerDetail:
    """The customer 360: profile, owner, latest score and timeline (newest first).

    Reading personal data is audited. Out of scope or missing: :class:`NotFound`.
    """
    return read_customer(engine, actor, customer_id).audited()


def create_customer(engine: Engine, actor: Actor, fields: CustomerFields) -> CustomerDetail:
    """Create a customer owned by the actor (the owner is never taken from the body)."""
    with audited_denials(engine, actor, "customer.create"), UnitOfWork(engine, write=True) as uow:
        require(actor, Permission.CUSTOMERS_CREATE)
        scope = load_scope(uow.session, actor)
        values = fields.model_dump(exclude_none=True)
        customer = Customer(**values, owner_id=actor.user_id)
        uow.session.add(customer)
        uow.session.flush()
        record(
            uow.session,
            actor,
            "customer.create",
            entity="customer",
            entity_id=customer.id,
            detail={"fields": sorted(values)},
        )
        detail = _detail(
            plain_connection(uow.session.connection()), customer.id, scope, timeline=False
        )
        uow.commit()
        return detail


def update_customer(
    engine: Engine, actor: Actor, customer_id: int, patch: CustomerPatch
) -> CustomerDetail:
    """Change the writable fields given in ``patch`` (``null`` clears a field)."""
    denials = audited_denials(engine, actor, "customer.update", customer_id=customer_id)
    with denials, UnitOfWork(engine, write=True) as uow:
        require(actor, Permission.CUSTOMERS_UPDATE)
        scope = load_scope(uow.session, actor)
        customer = visible_customer(uow.session, scope, customer_id)
        changes = patch.model_dump(exclude_unset=True)
        for name, value in changes.items():
            setattr(customer, name, value)
        uow.session.flush()
        record(
            uow.session,
            actor,
            "customer.update",
            entity="customer",
            entity_id=customer_id,
            detail={"fields": sorted(changes)},
        )
        detail = _detail(
            plain_connection(uow.session.connection()), customer.id, scope, timeline=False
        )
        uow.commit()
        return detail
