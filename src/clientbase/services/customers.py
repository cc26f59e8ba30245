"""Customer use cases: list (filters, search, keyset pages), detail with timeline, create, update.

Every query is restricted to the actor's scope (:mod:`clientbase.security.rbac`) in SQL, so
lists, counts and totals only ever cover what the actor may see; personal data is blanked
for pseudonymised scopes before it leaves the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, aliased

from clientbase.errors import InvalidInput
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, Scope, require
from clientbase.services.access import (
    FiguresCache,
    audited_denials,
    customer_clause,
    load_scope,
    visible_customer,
)
from clientbase.services.audit import record, record_read
from clientbase.services.customer_fields import (
    PERSONAL_FIELDS,
    CustomerFields,
    CustomerPatch,
    shown,
)
from clientbase.storage.orm import Customer, CustomerScore, Event, Order, ScoreRun, User
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = [
    "AT_RISK_SEGMENTS",
    "SEGMENTS",
    "CustomerDetail",
    "CustomerFilter",
    "CustomerPage",
    "CustomerView",
    "ScoreView",
    "TimelineItem",
    "create_customer",
    "get_customer",
    "latest_run",
    "list_customers",
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


#: What a list row reads: the customer's and the latest score's columns it shows.
_LIST_COLUMNS = (
    Customer.id,
    Customer.kind,
    Customer.name,
    Customer.email,
    Customer.phone,
    Customer.city,
    Customer.country,
    Customer.acquisition_channel,
    Customer.owner_id,
    Customer.created_at,
    CustomerScore.rung,
    CustomerScore.category,
    CustomerScore.net_contribution_minor,
    CustomerScore.clv_minor,
    CustomerScore.p_alive,
)


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


def _filtered(
    stmt: Any, scope: Scope, flt: CustomerFilter, run_id: int | None, owner_column: Any = None
) -> Any:
    stmt = stmt.where(customer_clause(scope, owner_column))
    if flt.kind:
        stmt = stmt.where(Customer.kind == flt.kind)
    if flt.channel:
        stmt = stmt.where(Customer.acquisition_channel == flt.channel)
    if flt.country:
        stmt = stmt.where(Customer.country == flt.country.upper())
    if flt.city:
        stmt = stmt.where(func.lower(Customer.city) == flt.city.strip().lower())
    if flt.owner_id is not None:
        stmt = stmt.where(Customer.owner_id == flt.owner_id)
    if flt.rung is not None or flt.category or flt.segment:
        scored = select(CustomerScore.customer_id).where(CustomerScore.run_id == (run_id or -1))
        if flt.rung is not None:
            scored = scored.where(CustomerScore.rung == flt.rung)
        if flt.category:
            scored = scored.where(CustomerScore.category == flt.category)
        if flt.segment == "at_risk":
            scored = scored.where(
                CustomerScore.rfm_segment.in_(AT_RISK_SEGMENTS),
                or_(CustomerScore.category.is_(None), CustomerScore.category != "lost"),
            )
        elif flt.segment == "loss_makers":
            scored = scored.where(CustomerScore.net_contribution_minor < 0)
        elif flt.segment:
            raise InvalidInput(f"unknown list {flt.segment!r}; use one of {', '.join(SEGMENTS)}")
        stmt = stmt.where(Customer.id.in_(scored))
    if flt.q and flt.q.strip():
        stmt = stmt.where(_search(flt.q.strip(), scope))
    return stmt


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
    terms: list[Any] = [func.lower(Customer.city) == q.lower()]
    if q.isdigit():
        terms.append(Customer.id == int(q))
    if not scope.pseudonymise:
        if "@" in q:
            terms.append(func.lower(Customer.email) == q.lower())
        elif sum(ch.isdigit() for ch in q) >= 6:
            digits = "".join(ch for ch in q if ch.isdigit())
            terms.append(
                func.replace(func.replace(Customer.phone, " ", ""), "-", "").contains(digits)
            )
        else:
            terms.append(func.lower(Customer.name).contains(q.lower(), autoescape=True))
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
    with audited_denials(engine, actor, "customers.list"), UnitOfWork(engine) as uow:
        require(actor, Permission.CUSTOMERS_READ)
        session = uow.session
        scope = load_scope(session, actor)
        run = latest_run(session)
        run_id = run.id if run else None
        owner = aliased(User)
        # Only the columns a list row shows, as plain rows: loading whole ORM entities
        # (and decoding every JSON column of every customer) cost most of a page's CPU.
        stmt = (
            select(*_LIST_COLUMNS, owner.display_name.label("owner_name"))
            .select_from(Customer)
            .outerjoin(
                CustomerScore,
                (CustomerScore.customer_id == Customer.id)
                & (CustomerScore.run_id == (run_id or -1)),
            )
            .outerjoin(owner, owner.id == Customer.owner_id)
        )
        newest = session.scalar(select(func.max(Customer.id))) or 0
        key = (run_id, scope.owner_ids, scope.pseudonymise, flt, newest)
        total = _totals.get(
            engine,
            key,
            lambda: int(
                session.scalar(_filtered(select(func.count(Customer.id)), scope, flt, run_id)) or 0
            ),
        )
        owner_column: Any = None
        if _dense(engine, scope, total, newest):
            # Matches are spread over the whole id range: walking the primary key in order
            # finds a page at once, where the owner index would sort every match first.
            owner_column = Customer.owner_id + 0
        stmt = _filtered(stmt, scope, flt, run_id, owner_column)
        if after is not None:
            stmt = stmt.where(Customer.id > after)
        rows = session.execute(stmt.order_by(Customer.id).limit(limit + 1)).all()
        items = [_view(row, scope) for row in rows[:limit]]
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


def _view(row: Any, scope: Scope) -> CustomerView:
    """A list row (:data:`_LIST_COLUMNS` and ``owner_name``) as the scope may see it."""

    def personal(field: str) -> Any:
        return None if scope.pseudonymise and field in PERSONAL_FIELDS else getattr(row, field)

    return CustomerView(
        id=row.id,
        kind=row.kind,
        name=personal("name"),
        email=personal("email"),
        phone=personal("phone"),
        city=row.city,
        country=row.country,
        acquisition_channel=row.acquisition_channel,
        owner_id=row.owner_id,
        owner_name=row.owner_name,
        created_at=row.created_at,
        rung=row.rung,
        category=row.category,
        net_contribution_minor=row.net_contribution_minor,
        clv_minor=row.clv_minor,
        p_alive=row.p_alive,
    )


def _timeline(session: Session, customer_id: int, limit: int = 200) -> list[TimelineItem]:
    """The newest orders and events, read as plain rows (no ORM entities: cheaper)."""
    orders = session.execute(
        select(
            Order.ordered_at, Order.total_minor, Order.cost_minor, Order.status, Order.external_id
        )
        .where(Order.customer_id == customer_id)
        .order_by(Order.ordered_at.desc())
        .limit(limit)
    )
    events = session.execute(
        select(
            Event.occurred_at,
            Event.kind,
            Event.amount_minor,
            Event.cost_minor,
            Event.status,
            Event.rating,
            Event.external_id,
        )
        .where(Event.customer_id == customer_id)
        .order_by(Event.occurred_at.desc())
        .limit(limit)
    )
    items = [
        TimelineItem(
            at=at, kind="order", amount_minor=total, cost_minor=cost, status=status, reference=ref
        )
        for at, total, cost, status, ref in orders
    ] + [
        TimelineItem(
            at=at,
            kind=kind,
            amount_minor=amount,
            cost_minor=cost,
            status=status,
            rating=rating,
            reference=ref,
        )
        for at, kind, amount, cost, status, rating, ref in events
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def _score(session: Session, customer_id: int) -> ScoreView | None:
    run = latest_run(session)
    if run is None:
        return None
    s = session.get(CustomerScore, (run.id, customer_id))
    if s is None:
        return None
    return ScoreView(
        run_id=run.id,
        as_of=run.as_of,
        rung=s.rung,
        category=s.category,
        net_contribution_minor=s.net_contribution_minor,
        p_alive=s.p_alive,
        expected_purchases_12m=s.expected_purchases_12m,
        clv_minor=s.clv_minor,
        reason_codes=_reason_codes(s),
    )


def _reason_codes(score: CustomerScore) -> list[str]:
    """The reason codes of a score row (rung, what blocks the next rung, category)."""
    names = ("rung_reason", "rung_blocker", "category_reason")
    return [str(code) for name in names if (code := getattr(score, name, None))]


def _detail(
    session: Session, customer: Customer, scope: Scope, *, timeline: bool
) -> CustomerDetail:
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    return CustomerDetail(
        id=customer.id,
        profile={name: shown(customer, scope, name) for name in _PROFILE_FIELDS},
        owner_id=customer.owner_id,
        owner_name=owner.display_name if owner else None,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        score=_score(session, customer.id),
        timeline=_timeline(session, customer.id) if timeline else [],
        pseudonymised=scope.pseudonymise,
    )


def get_customer(engine: Engine, actor: Actor, customer_id: int) -> CustomerDetail:
    """The customer 360: profile, owner, latest score and timeline (newest first).

    Reading personal data is audited. Out of scope or missing: :class:`NotFound`.
    """
    denials = audited_denials(engine, actor, "customer.read", customer_id=customer_id)
    with denials, UnitOfWork(engine) as uow:
        require(actor, Permission.CUSTOMERS_READ)
        scope = load_scope(uow.session, actor)
        customer = visible_customer(uow.session, scope, customer_id)
        detail = _detail(uow.session, customer, scope, timeline=True)
    if not scope.pseudonymise:
        record_read(engine, actor, "customer.read", entity="customer", entity_id=customer_id)
    return detail


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
        detail = _detail(uow.session, customer, scope, timeline=False)
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
        detail = _detail(uow.session, customer, scope, timeline=False)
        uow.commit()
        return detail
