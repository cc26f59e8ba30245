"""Customer features in process: compiled single-pass kernels over the Arrow inputs.

The embedded default (scoring in the same process as the store's reader) computes the
per-customer features with the kernels of this module instead of executing the Ibis
expression of :func:`clientbase.analytics.features.customer_features`. Both give the same
table, row for row and to the cent; ``tests/integration/analytics/test_columnar.py`` checks it
on hand-built and random inputs. The Ibis expression stays the definition, and it is what
runs where the data lives (inside PostgreSQL, on Spark).

Why kernels: every feature is a per-customer fold over the orders and the events. A hash
aggregate per group of features hashes every customer id once per aggregate and joins the
results (seven joins of a million rows); here each input is read once, a customer is an
array position (a dense lookup from id to row when the ids are dense, Arrow's hash lookup
otherwise), and the purchase occasions — the distinct days with a completed order and the
median gap between them — come from a counting sort of those days by customer, so nothing is
sorted globally whatever the order of the input. The kernels are compiled with Numba (cached
on disk after the first run).

Inputs are the normalised tables of :data:`clientbase.analytics.features.INPUT_SCHEMAS`.
Sums of money stay integers (int64), as in the expression.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.features import (
    BONUS_KINDS,
    CANCELLATION,
    COMPLAINT_KINDS,
    COMPLETED,
    ENROLMENT,
    FEATURE_TYPES,
    INTEREST_KINDS,
    NPS,
    REFERRAL,
    RETURN_KINDS,
    RETURNED,
    REVIEW,
    SERVICE,
    TESTIMONIAL,
)
from clientbase.domain.policy import Policy
from clientbase.errors import InvalidInput

__all__ = ["customer_feature_table"]

Array = npt.NDArray[Any]
_F = TypeVar("_F", bound=Callable[..., Any])
_EPOCH = date(1970, 1, 1)
_NO_DAY = np.iinfo(np.int32).max  # a missing day: later than every as-of day
_NO_RATING = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).min

# What an event kind counts towards (one role per kind; 0: nothing the features use).
(_RETURN, _BONUS, _COMPLAINT, _SERVICE, _INTEREST, _ENROLMENT) = range(1, 7)
(_NPS, _REVIEW, _TESTIMONIAL, _CANCELLATION) = range(7, 11)


def _compiled(fn: _F) -> _F:
    """``fn`` compiled to machine code (cached on disk, releases the GIL)."""
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


def _kind_roles() -> Array:
    roles = np.zeros(256, dtype=np.int8)
    for kinds, role in (
        (RETURN_KINDS, _RETURN),
        (BONUS_KINDS, _BONUS),
        (COMPLAINT_KINDS, _COMPLAINT),
        ([SERVICE], _SERVICE),
        (INTEREST_KINDS, _INTEREST),
        ([ENROLMENT], _ENROLMENT),
        ([NPS], _NPS),
        ([REVIEW], _REVIEW),
        ([TESTIMONIAL], _TESTIMONIAL),
        ([CANCELLATION], _CANCELLATION),
    ):
        for kind in kinds:
            roles[kind & 0xFF] = role
    return roles


_ROLES = _kind_roles()


@_compiled
def _row(key: int, lookup: Array, low: int) -> int:  # pragma: no cover - compiled
    """The customer row of id ``key`` in a dense ``lookup`` from ``low`` (-1: unknown)."""
    k = key - low
    return lookup[k] if 0 <= k < lookup.size else -1


@_compiled
def _dense_positions(ids: Array, lookup: Array, low: int) -> Array:  # pragma: no cover - compiled
    out = np.empty(ids.size, dtype=np.int32)
    for i in range(ids.size):
        out[i] = _row(ids[i], lookup, low)
    return out


@_compiled
def _order_folds(  # pragma: no cover - compiled
    ids: Array,
    lookup: Array,
    low: int,
    day: Array,
    status: Array,
    total: Array,
    discount: Array,
    cost: Array,
    n: int,
    last_day: int,
    start_day: int,
    completed: int,
    returned: int,
) -> tuple[Array, Array, Array]:
    """Order counts and money per customer, and the completed days grouped by customer.

    Returns ``(sums, bounds, days)``: ``sums`` rows are orders seen, returned, revenue,
    discounts, cost of goods, trailing revenue and trailing cost of goods; customer ``p``'s
    completed days are ``days[bounds[p]:bounds[p + 1]]``, in input order (a counting sort:
    one pass counts, one pass places).
    """
    sums = np.zeros((7, n), np.int64)
    bounds = np.zeros(n + 1, np.int64)
    for i in range(ids.size):
        p = _row(ids[i], lookup, low)
        d = day[i]
        if p < 0 or d > last_day:
            continue
        sums[0, p] += 1
        s = status[i]
        if s == returned:
            sums[1, p] += 1
        elif s == completed:
            sums[2, p] += total[i]
            sums[3, p] += discount[i]
            sums[4, p] += cost[i]
            if d > start_day:
                sums[5, p] += total[i]
                sums[6, p] += cost[i]
            bounds[p + 1] += 1
    for p in range(n):
        bounds[p + 1] += bounds[p]
    fill = bounds[:-1].copy()
    days = np.empty(bounds[n], np.int32)
    for i in range(ids.size):
        p = _row(ids[i], lookup, low)
        if p < 0 or day[i] > last_day or status[i] != completed:
            continue
        days[fill[p]] = day[i]
        fill[p] += 1
    return sums, bounds, days


@_compiled
def _occasions(  # pragma: no cover - compiled
    days: Array, bounds: Array, low: int, high: int, start_day: int, out: Array, median: Array
) -> None:
    """Occasion features of customers ``low`` to ``high - 1`` from their completed days.

    ``out`` rows: occasions (distinct days), occasions after ``start_day``, first and last
    occasion; ``median`` the median gap in days between consecutive occasions (NaN for fewer
    than two). Each customer's days are sorted in place when they are not in order already.
    """
    widest = 1
    for p in range(low, high):
        widest = max(widest, bounds[p + 1] - bounds[p])
    gaps = np.empty(widest, np.int32)
    for p in range(low, high):
        a, b = bounds[p], bounds[p + 1]
        if a == b:
            continue
        seg = days[a:b]
        for j in range(1, b - a):
            if seg[j] < seg[j - 1]:
                seg.sort()
                break
        # One pass: distinct days, those after start_day, and the gaps between them.
        previous = seg[0]
        k = 1
        recent = 1 if previous > start_day else 0
        for j in range(1, b - a):
            d = seg[j]
            if d != previous:
                gaps[k - 1] = d - previous
                previous = d
                k += 1
                if d > start_day:
                    recent += 1
        out[0, p] = k
        out[1, p] = recent
        out[2, p] = seg[0]
        out[3, p] = previous
        if k > 1:
            m = k - 1
            g = gaps[:m]
            if m <= 32:  # insertion sort: most customers have few gaps
                for j in range(1, m):
                    v = g[j]
                    q = j - 1
                    while q >= 0 and g[q] > v:
                        g[q + 1] = g[q]
                        q -= 1
                    g[q + 1] = v
            else:
                g.sort()
            median[p] = (g[(m - 1) // 2] + g[m // 2]) / 2.0


@_compiled
def _event_folds(  # pragma: no cover - compiled
    ids: Array,
    lookup: Array,
    low: int,
    day: Array,
    kind: Array,
    amount: Array,
    cost: Array,
    rating: Array,
    roles: Array,
    n: int,
    last_day: int,
    start_day: int,
    advocacy_day: int,
    nps_min: int,
    review_min: int,
) -> tuple[Array, ...]:
    # Money sums: returns, bonuses, complaint cost, service cost; each whole and trailing.
    money = np.zeros((8, n), np.int64)
    # Counts: seen, complaints, complaints trailing, service contacts, interest, enrolments,
    # promoter answers, good reviews, testimonials.
    counts = np.zeros((9, n), np.int32)
    last_cancellation = np.full(n, _NEVER, np.int64)
    nps_key = np.full(n, _NEVER, np.int64)
    nps = np.zeros(n, np.int64)
    for i in range(ids.size):
        p = _row(ids[i], lookup, low)
        d = day[i]
        if p < 0 or d > last_day:
            continue
        counts[0, p] += 1
        role = roles[kind[i] & 0xFF]
        if role == 0:
            continue
        value = amount[i] + cost[i]
        recent = d > start_day
        r = rating[i]
        if role <= 4:  # money of returns, bonuses, complaints, service
            row = 2 * (role - 1)
            money[row, p] += value
            if recent:
                money[row + 1, p] += value
            if role == 3:
                counts[1, p] += 1
                if recent:
                    counts[2, p] += 1
            elif role == 4:
                counts[3, p] += 1
        elif role == 5:
            counts[4, p] += 1
        elif role == 6:
            counts[5, p] += 1
        elif role == 7:
            if r != _NO_RATING:
                if d > advocacy_day and r >= nps_min:
                    counts[6, p] += 1
                key = np.int64(d) * 1024 - r  # the latest answer; on one day the worse
                if key > nps_key[p]:
                    nps_key[p] = key
                    nps[p] = r
        elif role == 8:
            if r != _NO_RATING and d > advocacy_day and r >= review_min:
                counts[7, p] += 1
        elif role == 9:
            if d > advocacy_day:
                counts[8, p] += 1
        elif d > last_cancellation[p]:
            last_cancellation[p] = d
    return money, counts, last_cancellation, nps_key, nps


def _ints(column: pa.ChunkedArray | pa.Array, fill: int, kind: Any = np.int64) -> Array:
    """A column as a numpy integer array, missing values replaced by ``fill``.

    The store's reader delivers many small batches: they are joined once (one copy in
    Arrow) so that the numpy view needs no further copy when nothing is missing.
    """
    array = column
    if isinstance(column, pa.ChunkedArray):
        array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_date32(array.type):
        array = array.view(pa.int32())
    if array.null_count:
        array = pc.fill_null(array, fill)
    values = np.asarray(array.to_numpy(zero_copy_only=False))
    if values.dtype != kind:
        values = values.astype(kind)
    # Always read-only (a view of Arrow's memory is; a converted copy is made so), so that
    # the kernels see one array type and are compiled once, whatever the data.
    values.flags.writeable = False
    return values


def _days(column: pa.ChunkedArray | pa.Array) -> Array:
    return _ints(column, _NO_DAY, np.int32)


class _Customers:
    """Customer ids and the position of each: a dense lookup, or Arrow's hash lookup."""

    def __init__(self, ids: pa.ChunkedArray) -> None:
        self.ids = _ints(ids, 0)
        self.n = self.ids.size
        self._lookup: Array | None = None
        self._low = 0
        if self.n and ids.null_count:
            raise InvalidInput("customers: a customer without an id")
        if self.n:
            low, high = int(self.ids.min()), int(self.ids.max())
            if high - low + 1 <= 8 * self.n + (1 << 20):
                lookup = np.full(high - low + 1, -1, dtype=np.int32)
                lookup[self.ids - low] = np.arange(self.n, dtype=np.int32)
                if int(np.count_nonzero(lookup >= 0)) != self.n:
                    raise InvalidInput("customers: the same customer id appears twice")
                self._lookup, self._low = lookup, low
            elif np.unique(self.ids).size != self.n:
                raise InvalidInput("customers: the same customer id appears twice")
        self._value_set = pa.array(self.ids, pa.int64())

    def kernel_keys(self, ids: Array) -> tuple[Array, Array, int]:
        """``(keys, lookup, low)`` from which a kernel finds each id's row on the fly
        (``lookup[key - low]``, -1 when out of range): the ids and the dense lookup, or, for
        sparse ids, their rows already looked up and an identity lookup."""
        if self._lookup is not None:
            view = np.ascontiguousarray(ids, dtype=np.int64).view()
            view.flags.writeable = False  # one array type for the kernels (see _ints)
            return view, self._lookup, self._low
        rows = self.positions(ids).astype(np.int64)
        rows.flags.writeable = False
        return rows, np.arange(self.n, dtype=np.int32), 0

    def positions(self, ids: Array) -> Array:
        """The row of each id (-1: not a known customer)."""
        if self._lookup is not None:
            view = np.ascontiguousarray(ids, dtype=np.int64).view()
            view.flags.writeable = False  # one array type for the kernel (see _ints)
            return _dense_positions(view, self._lookup, self._low)
        found = pc.index_in(pa.array(ids, pa.int64()), value_set=self._value_set)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int32)


def _referrals(
    events: pa.Table,
    customers: _Customers,
    known: Array,
    referred_by: pa.ChunkedArray,
    occasions: Array,
    bought_elsewhere: Callable[[Array], Array],
    last_day: int,
) -> tuple[Array, Array]:
    """Referrals made and converted per customer row (pairs from events and records)."""
    kind = _ints(events.column("kind"), 0, np.int16)
    related = _ints(events.column("related_customer_id"), 0)
    day = _days(events.column("day"))
    valid = (kind == REFERRAL) & (day <= last_day)
    if events.column("related_customer_id").null_count:
        valid &= pc.is_valid(events.column("related_customer_id")).to_numpy(zero_copy_only=False)
    referrer, referred = _distinct_pairs(
        _ints(events.column("customer_id"), 0)[valid], related[valid]
    )
    # A customer's record names one referrer: those pairs are distinct already, and an
    # event pair repeats one exactly when the referred customer's record names the referrer.
    on_record = known & pc.is_valid(referred_by).to_numpy(zero_copy_only=False)
    recorded_by = _ints(referred_by, 0)
    at = customers.positions(referred)
    repeated = np.zeros(at.size, dtype=bool)
    inside = at >= 0
    repeated[inside] = on_record[at[inside]] & (recorded_by[at[inside]] == referrer[inside])
    referrer = np.concatenate((referrer[~repeated], recorded_by[on_record]))
    referred = np.concatenate((referred[~repeated], customers.ids[on_record]))
    if referrer.size == 0:
        return np.zeros(customers.n, np.int64), np.zeros(customers.n, np.int64)
    who = customers.positions(referrer)
    target = customers.positions(referred)
    bought = np.zeros(target.size, dtype=bool)
    inside = target >= 0
    bought[inside] = occasions[target[inside]] > 0
    if not inside.all():
        bought[~inside] = bought_elsewhere(referred[~inside])
    mine = who >= 0
    made = np.bincount(who[mine], minlength=customers.n).astype(np.int64)
    converted = np.bincount(who[mine & bought], minlength=customers.n).astype(np.int64)
    return made, converted


def _distinct_pairs(first: Array, second: Array) -> tuple[Array, Array]:
    """The distinct ``(first, second)`` pairs (one int64 key per pair when ids allow)."""
    if first.size == 0:
        return first, second
    if min(first.min(), second.min()) >= 0 and max(first.max(), second.max()) < 2**31:
        keys = np.unique((first << 32) | second)
        return keys >> 32, keys & 0xFFFFFFFF
    pairs = np.unique(np.stack((first, second), axis=1), axis=0)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


def _acquisition(
    inputs: dict[str, pa.Table],
    ids: Array,
    known: Array,
    acquired: Array,
    start_day: int,
    last_day: int,
) -> tuple[Array, Array]:
    """Each customer's integer share of their acquisition campaign's cost (whole, trailing).

    Shares add up to the campaign's cost exactly: ``cost // n`` each, plus one for the first
    ``cost % n`` customers by id.
    """
    n = ids.size
    share = np.zeros(n, np.int64)
    trailing = np.zeros(n, np.int64)
    column = inputs["customers"].column("acquisition_campaign_id")
    campaign = _ints(column, 0)
    campaigns = inputs["campaigns"]
    spent = _days(campaigns.column("starts_on")) <= last_day
    cid = _ints(campaigns.column("campaign_id"), 0)[spent]
    cost = _ints(campaigns.column("cost_minor"), 0)[spent]
    won = known & np.isin(campaign, cid)
    if column.null_count:
        won &= pc.is_valid(column).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(won)
    if rows.size == 0:
        return share, trailing
    order = np.lexsort((ids[rows], campaign[rows]))
    rows = rows[order]
    group = campaign[rows]
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    sizes = np.diff(np.append(starts, rows.size))
    rank = np.arange(rows.size) - np.repeat(starts, sizes)
    by_id = np.argsort(cid)
    of_group = cost[by_id[np.searchsorted(cid, group[starts], sorter=by_id)]]
    campaign_cost = np.repeat(of_group, sizes)
    n_won = np.repeat(sizes, sizes)
    share[rows] = campaign_cost // n_won + (rank < campaign_cost % n_won)
    recent = acquired[rows] != _NO_DAY
    recent &= acquired[rows] > start_day
    trailing[rows] = np.where(recent, share[rows], 0)
    return share, trailing


def _date_array(days: Array, valid: Array) -> pa.Array:
    return pa.array(days, pa.int32(), mask=~valid).cast(pa.date32())


def customer_feature_table(inputs: dict[str, pa.Table], as_of: date, policy: Policy) -> pa.Table:
    """The rows and columns of :func:`~clientbase.analytics.features.customer_features`.

    Parameters
    ----------
    inputs
        Normalised Arrow tables ``orders``, ``events``, ``customers``, ``campaigns``,
        ``responses`` (see :mod:`clientbase.analytics.features`).
    as_of
        The day the features describe; nothing later is read.
    policy
        Supplies the trailing windows and the advocacy thresholds.
    """
    last_day = (as_of - _EPOCH).days
    start_day = last_day - policy.windows.trailing_days
    advocacy_day = last_day - policy.windows.advocacy_days
    table = inputs["customers"]
    customers = _Customers(table.column("customer_id"))
    n = customers.n
    acquired = _days(table.column("acquired_day"))
    known = (acquired == _NO_DAY) | (acquired <= last_day)
    referred_by = table.column("referred_by_customer_id")

    orders = inputs["orders"]
    order_ids = _ints(orders.column("customer_id"), 0)
    order_day = _days(orders.column("day"))
    order_status = _ints(orders.column("status"), 0, np.int8)
    order_args = (
        *customers.kernel_keys(order_ids),
        order_day,
        order_status,
        _ints(orders.column("total_minor"), 0),
        _ints(orders.column("discount_minor"), 0),
        _ints(orders.column("cost_minor"), 0),
        n,
        last_day,
        start_day,
        COMPLETED,
        RETURNED,
    )
    events = inputs["events"]
    event_args = (
        *customers.kernel_keys(_ints(events.column("customer_id"), 0)),
        _days(events.column("day")),
        _ints(events.column("kind"), 0, np.int8),
        _ints(events.column("amount_minor"), 0),
        _ints(events.column("cost_minor"), 0),
        _ints(events.column("rating"), _NO_RATING),
        _ROLES,
        n,
        last_day,
        start_day,
        advocacy_day,
        policy.rungs.advocate_nps_min,
        policy.rungs.advocate_review_min,
    )
    responses = inputs["responses"]

    def acquisition_and_responses() -> tuple[Array, Array, Array]:
        share, share_t = _acquisition(inputs, customers.ids, known, acquired, start_day, last_day)
        responded = customers.positions(_ints(responses.column("customer_id"), 0))
        responded = responded[(responded >= 0) & (_days(responses.column("day")) <= last_day)]
        return share, share_t, np.bincount(responded, minlength=n).astype(np.int64)

    # The kernels release the GIL: the orders run here while the events, then the campaign
    # shares and responses, run on a second thread; then the customers' occasions, in halves.
    with ThreadPoolExecutor(2) as pool:
        event_folds = pool.submit(_event_folds, *event_args)
        side = pool.submit(acquisition_and_responses)
        order_sums, bounds, days = _order_folds(*order_args)
        occasion_rows = np.zeros((4, n), np.int32)
        median = np.full(n, np.nan)
        half = n // 2
        upper = pool.submit(_occasions, days, bounds, half, n, start_day, occasion_rows, median)
        _occasions(days, bounds, 0, half, start_day, occasion_rows, median)
        upper.result()
        money, counts, last_cancellation, nps_key, nps = event_folds.result()
        acquisition, acquisition_t, responses_n = side.result()
    orders_seen, orders_returned, revenue, discount, cogs, revenue_t, cogs_t = order_sums
    occasions, occasions_t, first, last = occasion_rows

    def bought_elsewhere(ids: Array) -> Array:
        done = (order_status == COMPLETED) & (order_day <= last_day)
        return np.isin(ids, order_ids[done])

    made, converted = _referrals(
        events, customers, known, referred_by, occasions, bought_elsewhere, last_day
    )

    keep = known | (orders_seen > 0) | (counts[0] > 0)
    rows = np.flatnonzero(keep)
    ids = customers.ids[rows]
    if ids.size > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        rows = rows[np.argsort(ids, kind="stable")]
    every = rows.size == n and bool(np.all(rows == np.arange(n)))

    def pick(values: Array) -> Array:
        return values if every else values[rows]

    returns, returns_t, bonuses, bonuses_t = money[0], money[1], money[2], money[3]
    complaint_cost, complaint_cost_t = money[4], money[5]
    service_cost, service_cost_t = money[6], money[7]
    gross_margin = revenue - cogs
    gross_margin_t = revenue_t - cogs_t
    cost_to_serve = returns + bonuses + complaint_cost + service_cost
    cost_to_serve_t = returns_t + bonuses_t + complaint_cost_t + service_cost_t
    bought = occasions > 0
    values: dict[str, Array] = {
        "occasions": occasions,
        "occasions_trailing": occasions_t,
        "orders_returned": orders_returned,
        "revenue_minor": revenue,
        "discount_minor": discount,
        "cogs_minor": cogs,
        "gross_margin_minor": gross_margin,
        "returns_minor": returns,
        "bonuses_minor": bonuses,
        "complaints": counts[1],
        "complaint_cost_minor": complaint_cost,
        "service_contacts": counts[3],
        "service_cost_minor": service_cost,
        "acquisition_cost_minor": acquisition,
        "cost_to_serve_minor": cost_to_serve,
        "net_contribution_minor": gross_margin - cost_to_serve - acquisition,
        "revenue_trailing_minor": revenue_t,
        "gross_margin_trailing_minor": gross_margin_t,
        "cost_to_serve_trailing_minor": cost_to_serve_t,
        "complaints_trailing": counts[2],
        "net_contribution_trailing_minor": gross_margin_t - cost_to_serve_t - acquisition_t,
        "referrals_made": made,
        "referrals_converted": converted,
        "promoter_answers": counts[6],
        "good_reviews": counts[7],
        "testimonials": counts[8],
        "loyalty_enrolled": counts[5] > 0,
        "cancelled": (last_cancellation != _NEVER) & (~bought | (last_cancellation >= last)),
        "interest_signals": counts[4] + responses_n,
    }
    b = pick(bought)
    first, last = pick(first), pick(last)
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array(pick(customers.ids), pa.int64()),
        "first_purchase": _date_array(first, b),
        "last_purchase": _date_array(last, b),
        "days_since_last": pa.array(last_day - last, pa.int32(), mask=~b),
        "tenure_days": pa.array(last_day - first, pa.int32(), mask=~b),
        "median_gap_days": pa.array(pick(median), pa.float64(), mask=pick(occasions) < 2),
        "nps_latest": pa.array(pick(nps), pa.int16(), mask=pick(nps_key) == _NEVER),
    }
    for name, kind in FEATURE_TYPES.items():
        if name not in columns:
            arrow = pa.bool_() if kind == "boolean" else pa.from_numpy_dtype(np.dtype(kind))
            columns[name] = pa.array(pick(values[name]), arrow)
    return pa.table(
        {"customer_id": columns["customer_id"]} | {k: columns[k] for k in FEATURE_TYPES}
    )
