"""The per-customer feature pipeline as Ibis expressions, every feature as of a date.

:func:`customer_features` takes the store's activity as :class:`FeatureInputs` (Ibis tables
in the normalised shapes below) and returns one expression with a row per customer; it never
executes anything (:mod:`clientbase.analytics.engine` does). Nothing dated after the as-of
day reaches a feature: every input is filtered to ``day <= as_of`` first. The trailing
windows are the ``N`` days ending on the as-of day (``day > as_of - N``).

Normalised inputs (column: type)::

    orders     customer_id, day: date, status: int8 code, total_minor, discount_minor,
               cost_minor
    events     customer_id, day: date, kind: int8 code, amount_minor, cost_minor, rating,
               related_customer_id
    customers  customer_id, acquired_day: date, acquisition_campaign_id,
               referred_by_customer_id
    campaigns  campaign_id, cost_minor, starts_on: date
    responses  customer_id, day: date        (campaign members who responded)

Order statuses and event kinds travel as the small integer codes of
:data:`ORDER_STATUS_CODES` and :data:`EVENT_KIND_CODES` (0: a value clientbase does not know),
which are cheaper to move and compare than text. Money is integer minor units; every sum
stays an integer, so the result is the same to the cent on every engine.

The purchase-occasion features (:data:`OCCASION_COLUMNS`) come from :func:`occasion_stats`,
or, when the caller has computed them already (the in-process scoring path does so with
numpy, :mod:`clientbase.analytics.occasions`), from a table passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from clientbase.domain.policy import Policy
from clientbase.domain.vocabulary import EventKind, OrderStatus

__all__ = [
    "EVENT_KIND_CODES",
    "FEATURE_TYPES",
    "INPUT_SCHEMAS",
    "OCCASION_COLUMNS",
    "ORDER_STATUS_CODES",
    "FeatureInputs",
    "customer_features",
    "occasion_stats",
]

#: The integer code of every order status (0 is an unknown status).
ORDER_STATUS_CODES: dict[str, int] = {s.value: i for i, s in enumerate(OrderStatus, start=1)}
#: The integer code of every event kind (0 is an unknown kind).
EVENT_KIND_CODES: dict[str, int] = {k.value: i for i, k in enumerate(EventKind, start=1)}


def _codes(*kinds: EventKind) -> list[int]:
    return [EVENT_KIND_CODES[k.value] for k in kinds]


COMPLETED = ORDER_STATUS_CODES[OrderStatus.COMPLETED.value]
RETURNED = ORDER_STATUS_CODES[OrderStatus.RETURNED.value]
INTEREST_KINDS = _codes(
    EventKind.ENQUIRY,
    EventKind.QUOTE_REQUEST,
    EventKind.INFORMATION_REQUEST,
    EventKind.CAMPAIGN_RESPONSE,
)
RETURN_KINDS = _codes(EventKind.RETURN, EventKind.REFUND)
BONUS_KINDS = _codes(EventKind.BONUS, EventKind.PROMOTION, EventKind.CREDIT)
COMPLAINT_KINDS = _codes(EventKind.COMPLAINT, EventKind.CLAIM)
(SERVICE, ENROLMENT, NPS, REVIEW, TESTIMONIAL, CANCELLATION, REFERRAL) = _codes(
    EventKind.SERVICE_CONTACT,
    EventKind.LOYALTY_ENROLMENT,
    EventKind.NPS,
    EventKind.REVIEW,
    EventKind.TESTIMONIAL,
    EventKind.CANCELLATION,
    EventKind.REFERRAL,
)

#: The schemas of the normalised inputs.
INPUT_SCHEMAS: dict[str, dict[str, str]] = {
    "orders": {
        "customer_id": "int64",
        "day": "date",
        "status": "code",
        "total_minor": "int64",
        "discount_minor": "int64",
        "cost_minor": "int64",
    },
    "events": {
        "customer_id": "int64",
        "day": "date",
        "kind": "code",
        "amount_minor": "int64",
        "cost_minor": "int64",
        "rating": "int64",
        "related_customer_id": "int64",
    },
    "customers": {
        "customer_id": "int64",
        "acquired_day": "date",
        "acquisition_campaign_id": "int64",
        "referred_by_customer_id": "int64",
    },
    "campaigns": {"campaign_id": "int64", "cost_minor": "int64", "starts_on": "date"},
    "responses": {"customer_id": "int64", "day": "date"},
}

#: The purchase-occasion features, as :func:`occasion_stats` returns them (with
#: ``customer_id``): one row per customer with at least one occasion.
OCCASION_COLUMNS: dict[str, str] = {
    "occasions": "int64",
    "occasions_trailing": "int64",
    "first_purchase": "date",
    "last_purchase": "date",
    "median_gap_days": "float64",
}

#: Every feature column (besides ``customer_id``) and its type, in output order.
FEATURE_TYPES: dict[str, str] = {
    "occasions": "int32",
    "occasions_trailing": "int32",
    "first_purchase": "date",
    "last_purchase": "date",
    "days_since_last": "int32",
    "tenure_days": "int32",
    "median_gap_days": "float64",
    "orders_returned": "int32",
    "revenue_minor": "int64",
    "discount_minor": "int64",
    "cogs_minor": "int64",
    "gross_margin_minor": "int64",
    "returns_minor": "int64",
    "bonuses_minor": "int64",
    "complaints": "int32",
    "complaint_cost_minor": "int64",
    "service_contacts": "int32",
    "service_cost_minor": "int64",
    "acquisition_cost_minor": "int64",
    "cost_to_serve_minor": "int64",
    "net_contribution_minor": "int64",
    "revenue_trailing_minor": "int64",
    "gross_margin_trailing_minor": "int64",
    "cost_to_serve_trailing_minor": "int64",
    "complaints_trailing": "int32",
    "net_contribution_trailing_minor": "int64",
    "referrals_made": "int32",
    "referrals_converted": "int32",
    "nps_latest": "int16",
    "promoter_answers": "int32",
    "good_reviews": "int32",
    "testimonials": "int32",
    "loyalty_enrolled": "boolean",
    "cancelled": "boolean",
    "interest_signals": "int32",
}

# Columns left as they are (no zero for "nothing"): dates, gaps, the NPS answer, flags.
_NULLABLE = {
    "first_purchase",
    "last_purchase",
    "days_since_last",
    "tenure_days",
    "median_gap_days",
    "nps_latest",
    "loyalty_enrolled",
    "cancelled",
}


@dataclass(frozen=True, slots=True)
class FeatureInputs:
    """The store's activity as Ibis tables in the normalised shapes (module docstring)."""

    orders: ir.Table
    events: ir.Table
    customers: ir.Table
    campaigns: ir.Table
    responses: ir.Table


def _attach(base: ir.Table, agg: ir.Table) -> ir.Table:
    joined = base.left_join(agg, base.customer_id == agg.customer_id)
    return joined.drop("customer_id_right")


def occasion_stats(orders: ir.Table, start: date) -> ir.Table:
    """Purchase occasions (days with a completed order) of every buyer: their count, the
    count after ``start``, the first and last, and the median gap in days between them.

    ``orders`` must already be cut at the as-of day.
    """
    done = orders.filter(orders.status == COMPLETED)
    days = done.select("customer_id", "day").distinct()
    w = ibis.window(group_by=days.customer_id, order_by=days.day)
    days = days.mutate(gap=days.day.delta(days.day.lag().over(w), unit="day").cast("float64"))
    return days.group_by("customer_id").agg(
        occasions=days.count(),
        occasions_trailing=days.count(where=days.day > start),
        first_purchase=days.day.min(),
        last_purchase=days.day.max(),
        median_gap_days=days.gap.median(),
    )


def _order_money(orders: ir.Table, start: date) -> ir.Table:
    # Two steps: a narrow aggregate per (customer, status, recent?) that shrinks the orders
    # about tenfold, then the per-customer sums over it.
    o = orders.mutate(recent=orders.day > start)
    by = o.group_by(["customer_id", "status", "recent"]).agg(
        n=o.count(),
        total=o.total_minor.sum(),
        discount=o.discount_minor.sum(),
        cost=o.cost_minor.fill_null(0).sum(),
    )
    done = by.status == COMPLETED
    recent = done & by.recent
    return by.group_by("customer_id").agg(
        orders_seen=by.n.sum(),
        orders_returned=by.n.sum(where=by.status == RETURNED),
        revenue_minor=by.total.sum(where=done),
        discount_minor=by.discount.sum(where=done),
        cogs_minor=by.cost.sum(where=done),
        revenue_trailing_minor=by.total.sum(where=recent),
        cogs_trailing_minor=by.cost.sum(where=recent),
    )


def _event_facts(events: ir.Table, start: date, adv_start: date, policy: Policy) -> ir.Table:
    r = policy.rungs
    e = events
    advocacy = (e.day > adv_start) & (
        ((e.kind == NPS) & (e.rating >= r.advocate_nps_min))
        | ((e.kind == REVIEW) & (e.rating >= r.advocate_review_min))
        | (e.kind == TESTIMONIAL)
    )
    e = e.mutate(
        money=e.amount_minor.fill_null(0) + e.cost_minor.fill_null(0),
        recent=e.day > start,
        good=advocacy.fill_null(False),
    )
    # Two steps, as for the orders: per (customer, kind, recent?, advocacy?), then pivot.
    by = e.group_by(["customer_id", "kind", "recent", "good"]).agg(
        n=e.count(), money=e.money.sum(), last_day=e.day.max()
    )

    def is_(kinds: list[int]) -> ir.BooleanValue:
        return by.kind.isin(kinds) if len(kinds) > 1 else by.kind == kinds[0]

    returns, bonuses, complaints = is_(RETURN_KINDS), is_(BONUS_KINDS), is_(COMPLAINT_KINDS)
    service = by.kind == SERVICE
    recent = by.recent
    return by.group_by("customer_id").agg(
        events_seen=by.n.sum(),
        returns_minor=by.money.sum(where=returns),
        returns_trailing_minor=by.money.sum(where=returns & recent),
        bonuses_minor=by.money.sum(where=bonuses),
        bonuses_trailing_minor=by.money.sum(where=bonuses & recent),
        complaints=by.n.sum(where=complaints),
        complaints_trailing=by.n.sum(where=complaints & recent),
        complaint_cost_minor=by.money.sum(where=complaints),
        complaint_cost_trailing_minor=by.money.sum(where=complaints & recent),
        service_contacts=by.n.sum(where=service),
        service_cost_minor=by.money.sum(where=service),
        service_cost_trailing_minor=by.money.sum(where=service & recent),
        interest_events=by.n.sum(where=is_(INTEREST_KINDS)),
        enrolments=by.n.sum(where=by.kind == ENROLMENT),
        promoter_answers=by.n.sum(where=(by.kind == NPS) & by.good),
        good_reviews=by.n.sum(where=(by.kind == REVIEW) & by.good),
        testimonials=by.n.sum(where=(by.kind == TESTIMONIAL) & by.good),
        last_cancellation=by.last_day.max(where=by.kind == CANCELLATION),
    )


def _latest_nps(events: ir.Table) -> ir.Table:
    nps = events.filter((events.kind == NPS) & events.rating.notnull())
    # The latest answer; on the same day the worse one (deterministic on every engine).
    key = nps.day.delta(ibis.date(1970, 1, 1), unit="day").cast("int64") * 1024 - nps.rating
    return nps.group_by("customer_id").agg(nps_latest=nps.rating.argmax(key))


def _referrals(events: ir.Table, customers: ir.Table, bought: ir.Table) -> ir.Table:
    by_event = events.filter(
        (events.kind == REFERRAL) & events.related_customer_id.notnull()
    ).select(referrer=events.customer_id, referred=events.related_customer_id)
    by_record = customers.filter(customers.referred_by_customer_id.notnull()).select(
        referrer=customers.referred_by_customer_id, referred=customers.customer_id
    )
    pairs = by_event.union(by_record, distinct=True)
    buyers = bought.select(referred=bought.customer_id)
    joined = pairs.left_join(buyers, pairs.referred == buyers.referred).select(
        "referrer", converted=buyers.referred.notnull()
    )
    return joined.group_by(customer_id=joined.referrer).agg(
        referrals_made=joined.count(),
        referrals_converted=joined.count(where=joined.converted),
    )


def _acquisition(customers: ir.Table, campaigns: ir.Table, asof: Any, start: date) -> ir.Table:
    spent = campaigns.filter(campaigns.starts_on <= asof)
    won = customers.filter(customers.acquisition_campaign_id.notnull())
    joined = won.join(spent, won.acquisition_campaign_id == spent.campaign_id).select(
        "customer_id", "acquired_day", "campaign_id", "cost_minor"
    )
    w = ibis.window(group_by=joined.campaign_id, order_by=joined.customer_id)
    n = joined.count().over(ibis.window(group_by=joined.campaign_id))
    rank = ibis.row_number().over(w)
    # Integer shares that add up to the campaign's cost exactly (largest remainder by id).
    share = joined.cost_minor // n + ibis.ifelse(rank < joined.cost_minor % n, 1, 0)
    recent = joined.acquired_day.notnull() & (joined.acquired_day > start)
    # One row per customer already (a customer has one acquisition campaign).
    return joined.select(
        "customer_id",
        acquisition_cost_minor=share,
        acquisition_trailing_minor=ibis.ifelse(recent, share, 0),
    )


def customer_features(
    inputs: FeatureInputs,
    as_of: date,
    policy: Policy,
    *,
    occasions: ir.Table | None = None,
) -> ir.Table:
    """One row per customer known by ``as_of`` with every feature of :data:`FEATURE_TYPES`.

    Parameters
    ----------
    inputs
        The store's activity, normalised (see the module docstring).
    as_of
        The day the features describe; nothing later is read.
    policy
        Supplies the trailing windows and the advocacy thresholds.
    occasions
        The purchase-occasion features as :func:`occasion_stats` would compute them from the
        same orders (``customer_id`` and :data:`OCCASION_COLUMNS`); built when not given.
    """
    asof = ibis.date(as_of)
    start = as_of - timedelta(days=policy.windows.trailing_days)
    adv_start = as_of - timedelta(days=policy.windows.advocacy_days)
    orders = inputs.orders.filter(inputs.orders.day <= asof)
    events = inputs.events.filter(inputs.events.day <= asof)
    responses = inputs.responses.filter(inputs.responses.day <= asof)
    c = inputs.customers
    known = c.filter(c.acquired_day.isnull() | (c.acquired_day <= asof))

    if occasions is None:
        occasions = occasion_stats(orders, start)
    responded = responses.group_by("customer_id").agg(responses=responses.count())
    base = c.select("customer_id", "acquired_day")
    for agg in (
        occasions,
        _order_money(orders, start),
        _event_facts(events, start, adv_start, policy),
        _latest_nps(events),
        _referrals(events, known, occasions),
        _acquisition(known, inputs.campaigns, asof, start),
        responded,
    ):
        base = _attach(base, agg)
    b = base.filter(
        base.acquired_day.isnull()
        | (base.acquired_day <= asof)
        | base.events_seen.notnull()
        | base.orders_seen.notnull()
    )

    def z(col: ir.Value) -> Any:
        return col.fill_null(0)

    gm = z(b.revenue_minor) - z(b.cogs_minor)
    gm_t = z(b.revenue_trailing_minor) - z(b.cogs_trailing_minor)
    cts = (
        z(b.returns_minor)
        + z(b.bonuses_minor)
        + z(b.complaint_cost_minor)
        + z(b.service_cost_minor)
    )
    cts_t = (
        z(b.returns_trailing_minor)
        + z(b.bonuses_trailing_minor)
        + z(b.complaint_cost_trailing_minor)
        + z(b.service_cost_trailing_minor)
    )
    values: dict[str, Any] = {
        "occasions": b.occasions,
        "occasions_trailing": b.occasions_trailing,
        "first_purchase": b.first_purchase,
        "last_purchase": b.last_purchase,
        "days_since_last": asof.delta(b.last_purchase, unit="day"),
        "tenure_days": asof.delta(b.first_purchase, unit="day"),
        "median_gap_days": b.median_gap_days,
        "orders_returned": b.orders_returned,
        "revenue_minor": b.revenue_minor,
        "discount_minor": b.discount_minor,
        "cogs_minor": b.cogs_minor,
        "gross_margin_minor": gm,
        "returns_minor": b.returns_minor,
        "bonuses_minor": b.bonuses_minor,
        "complaints": b.complaints,
        "complaint_cost_minor": b.complaint_cost_minor,
        "service_contacts": b.service_contacts,
        "service_cost_minor": b.service_cost_minor,
        "acquisition_cost_minor": b.acquisition_cost_minor,
        "cost_to_serve_minor": cts,
        "net_contribution_minor": gm - cts - z(b.acquisition_cost_minor),
        "revenue_trailing_minor": b.revenue_trailing_minor,
        "gross_margin_trailing_minor": gm_t,
        "cost_to_serve_trailing_minor": cts_t,
        "complaints_trailing": b.complaints_trailing,
        "net_contribution_trailing_minor": gm_t - cts_t - z(b.acquisition_trailing_minor),
        "referrals_made": b.referrals_made,
        "referrals_converted": b.referrals_converted,
        "nps_latest": b.nps_latest,
        "promoter_answers": b.promoter_answers,
        "good_reviews": b.good_reviews,
        "testimonials": b.testimonials,
        "loyalty_enrolled": z(b.enrolments) > 0,
        "cancelled": b.last_cancellation.notnull()
        & (b.last_purchase.isnull() | (b.last_cancellation >= b.last_purchase)),
        "interest_signals": z(b.interest_events) + z(b.responses),
    }
    columns = {
        name: (values[name] if name in _NULLABLE else z(values[name])).cast(kind)
        for name, kind in FEATURE_TYPES.items()
    }
    return b.select("customer_id", **columns).order_by("customer_id")
