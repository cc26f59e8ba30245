"""Timeline events of one block of customers (every :class:`EventKind`), with realistic money.

Money moved to the customer (returns, refunds, bonuses, promotions, credits) is ``amount``;
what handling cost the business (complaints, claims, service contacts) is ``cost``; together
they are the cost-to-serve of ``docs/policy-defaults.md``. For customers planted loyal or
average it is scaled to at most 10 % of their gross margin (whole history and trailing year);
planted loss-makers get 1.6-3x their whole gross margin; other demanding customers 60-80 % of
the trailing year's margin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.campaigns import CampaignPlan
from clientbase.demo.orders import TRAILING, OrderBlock
from clientbase.demo.population import CATEGORY_CODES, Population
from clientbase.domain.vocabulary import AcquisitionChannel, EventKind, Rung, ValueCategory

__all__ = ["EVENT_KINDS", "EVENT_STATUSES", "EventBlock", "make_events"]

IntArray = NDArray[np.int64]
EVENT_KINDS: tuple[EventKind, ...] = tuple(EventKind)
EVENT_STATUSES = ("resolved", "open", "rejected", "converted", "not_converted")
K = {k: i for i, k in enumerate(EVENT_KINDS)}
HUF = 100  # minor units per forint
FIELDS = (
    "customer",
    "day",
    "kind",
    "amount",
    "cost",
    "rating",
    "status",
    "handler",
    "campaign",
    "order",
    "related",
)


@dataclass(slots=True)
class EventBlock:
    """Event columns sorted by customer and time; -1 (or 0 for ids) means NULL.

    ``order`` is an index into the block's orders.
    """

    cols: dict[str, IntArray] = field(default_factory=dict)
    ts: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    net_whole: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


class _Builder:
    def __init__(self) -> None:
        self.parts: dict[str, list[IntArray]] = {f: [] for f in FIELDS}

    def add(self, customer: IntArray, day: IntArray, kind: int | IntArray, **kw: object) -> None:
        n = len(customer)
        self.parts["customer"].append(np.asarray(customer, dtype=np.int64))
        self.parts["day"].append(np.maximum(np.asarray(day, dtype=np.int64), 1))
        self.parts["kind"].append(np.broadcast_to(np.asarray(kind, dtype=np.int64), n).copy())
        for f in FIELDS[3:]:
            default = 0 if f in ("handler", "campaign", "related") else -1
            val = kw.get(f, default)
            self.parts[f].append(np.broadcast_to(np.asarray(val, dtype=np.int64), n).copy())

    def build(self) -> dict[str, IntArray]:
        return {f: np.concatenate(v) if v else np.zeros(0, np.int64) for f, v in self.parts.items()}


def _within(rng: np.random.Generator, lo: IntArray, hi: IntArray) -> IntArray:
    hi = np.maximum(hi, lo)
    return lo + np.floor(rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def _huf(rng: np.random.Generator, lo: int, hi: int, n: int) -> IntArray:
    return rng.integers(lo, hi + 1, n).astype(np.int64) * HUF


def make_events(
    pop: Population,
    camp: CampaignPlan,
    ob: OrderBlock,
    lo: int,
    hi: int,
    rng: np.random.Generator,
) -> EventBlock:
    """Generate every event of customers ``lo <= index < hi`` (referrals on the referrer)."""
    b = _Builder()
    idx = np.arange(lo, hi)
    n = len(idx)
    rung, cat = pop.rung[idx], pop.category[idx]
    code = np.array([a.code for a in plan.ARCHETYPES])[pop.archetype[idx]]
    acq, last, first = pop.acquired_day[idx], pop.last_day[idx], pop.first_day[idx]
    owner = pop.owner[idx]
    ones = np.ones(n, dtype=np.int64)
    buyer = rung >= Rung.FIRST_TIME_BUYER
    # Interest: prospects always, some buyers too.
    m = rung == Rung.PROSPECT
    reps = rng.integers(1, 4, n) * m + (buyer & (rng.random(n) < 0.15))
    c = np.repeat(idx, reps)
    kinds = np.array(
        [K[EventKind.ENQUIRY], K[EventKind.QUOTE_REQUEST], K[EventKind.INFORMATION_REQUEST]]
    )
    b.add(
        c,
        _within(rng, np.ones(len(c), np.int64), pop.acquired_day[c]),
        kinds[rng.integers(0, 3, len(c))],
        handler=pop.owner[c],
    )
    # Advocacy signals (advocates, partners) and the traps of plain members.
    adv = np.flatnonzero(rung >= Rung.ADVOCATE)
    pick = rng.integers(0, 3, len(adv))
    d = _within(rng, np.full(len(adv), 20), np.minimum(600, acq[adv] - 1))
    b.add(
        idx[adv[pick == 0]],
        d[pick == 0],
        K[EventKind.NPS],
        rating=rng.integers(9, 11, int((pick == 0).sum())),
    )
    b.add(
        idx[adv[pick == 1]],
        d[pick == 1],
        K[EventKind.REVIEW],
        rating=rng.integers(4, 6, int((pick == 1).sum())),
    )
    b.add(idx[adv[pick == 2]], d[pick == 2], K[EventKind.TESTIMONIAL])
    mem = np.flatnonzero(rung == Rung.MEMBER)
    u = rng.random(len(mem))
    d = _within(rng, np.full(len(mem), 20), np.minimum(600, acq[mem] - 1))
    sel = u < 0.4
    b.add(idx[mem[sel]], d[sel], K[EventKind.NPS], rating=rng.integers(7, 9, int(sel.sum())))
    sel = (u >= 0.4) & (u < 0.6)
    b.add(idx[mem[sel]], d[sel], K[EventKind.REVIEW], rating=rng.integers(2, 4, int(sel.sum())))
    sel = (u >= 0.6) & (u < 0.7)
    k = int(sel.sum())
    b.add(idx[mem[sel]], rng.integers(200, 381, k), K[EventKind.NPS], rating=np.full(k, 10))
    b.add(idx[mem[sel]], rng.integers(20, 151, k), K[EventKind.NPS], rating=rng.integers(3, 7, k))
    low = np.flatnonzero(buyer & (rung <= Rung.CLIENT) & (rng.random(n) < 0.25))
    d = _within(rng, last[low], first[low])
    b.add(idx[low], d, K[EventKind.NPS], rating=rng.integers(0, 11, len(low)))
    # Referrals (on the referrer), enrolment, cancellation.
    ref = np.flatnonzero(pop.referrer[idx] > 0)
    converted = buyer[ref]
    b.add(
        pop.referrer[idx[ref]] - 1,
        acq[ref],
        K[EventKind.REFERRAL],
        related=idx[ref] + 1,
        status=np.where(converted, 3, 4),
    )
    en = np.flatnonzero(pop.enrolled[idx])
    b.add(idx[en], _within(rng, ones[en], acq[en] - 1), K[EventKind.LOYALTY_ENROLMENT])
    ca = np.flatnonzero(pop.cancel_day[idx] > 0)
    b.add(idx[ca], pop.cancel_day[idx[ca]], K[EventKind.CANCELLATION], handler=owner[ca])
    # Campaign contacts and responses.
    a, z = np.searchsorted(camp.customer, [lo, hi])
    cc, ck = camp.customer[a:z], camp.campaign[a:z]
    cd, rd = camp.contacted_day[a:z], camp.responded_day[a:z]
    sel = cd > 0
    b.add(cc[sel], cd[sel], K[EventKind.CAMPAIGN_CONTACT], campaign=ck[sel])
    sel = rd > 0
    b.add(cc[sel], rd[sel], K[EventKind.CAMPAIGN_RESPONSE], campaign=ck[sel])

    money_from = sum(len(p) for p in b.parts["customer"])
    _friction(b, pop, ob, idx, code, cat, rng)
    cols = b.build()
    cac = np.array([plan.CAC_MINOR.get(AcquisitionChannel(ch), 0) for ch in plan.CHANNELS])
    net = _scale_money(cols, money_from, ob, pop, idx, cat, cac[pop.channel[idx]], rng)
    ts = (
        plan.AS_OF_EPOCH
        - cols["day"] * 86_400
        + rng.integers(8 * 3600, 20 * 3600, len(cols["day"]))
    )
    # Timeline order (by customer, then time), as the orders: ids follow each customer's
    # history and the (customer, time) index is appended to, not reshuffled, when loaded.
    since = ts - (plan.AS_OF_EPOCH - 2 * plan.HISTORY_DAYS * 86_400)
    assert len(ts) == 0 or (since.min() >= 0 and since.max() < 1 << 32)
    order = np.argsort((cols["customer"] << 32) + since, kind="stable")
    return EventBlock(cols={f: v[order] for f, v in cols.items()}, ts=ts[order], net_whole=net)


def _friction(
    b: _Builder,
    pop: Population,
    ob: OrderBlock,
    idx: IntArray,
    code: NDArray[np.str_],
    cat: IntArray,
    rng: np.random.Generator,
) -> None:
    """Raw cost-to-serve events; :func:`_scale_money` sizes their money afterwards."""
    n = len(idx)
    lo = int(idx[0]) if n else 0
    acq, last = pop.acquired_day[idx], pop.last_day[idx]
    owner = pop.owner[idx]
    demanding = cat == CATEGORY_CODES.index(ValueCategory.DEMANDING)
    buyer = pop.rung[idx] >= Rung.FIRST_TIME_BUYER
    quiet = code == "first_average"
    normal = buyer & ~demanding & ~quiet
    has_order = ob.last_order >= 0
    # Complaints and claims.
    n_compl = np.zeros(n, dtype=np.int64)
    n_compl[demanding] = rng.integers(4, 8, int(demanding.sum()))
    loyal = cat == CATEGORY_CODES.index(ValueCategory.LOYAL)
    n_compl[loyal] = rng.random(int(loyal.sum())) < 0.3
    n_compl[np.isin(code, ["member_average", "advocate_average", "partner_average"])] = 2
    n_compl[code == "client_average"] = rng.random(int((code == "client_average").sum())) < 0.3
    c = np.repeat(np.arange(n), n_compl)
    hi_day = np.where(code[c] == "first_demanding", last[c] - 2, 330)
    day = _within(rng, np.full(len(c), 3), hi_day)
    claim = pop.company[idx[c]] & (rng.random(len(c)) < 0.5)
    b.add(
        idx[c],
        day,
        np.where(claim, K[EventKind.CLAIM], K[EventKind.COMPLAINT]),
        cost=_huf(rng, 2000, 8000, len(c)),
        handler=owner[c],
        status=rng.choice(3, len(c), p=[0.7, 0.2, 0.1]),
    )
    old = np.flatnonzero(loyal & (acq > 460) & (rng.random(n) < 0.2))
    b.add(
        idx[old],
        _within(rng, np.full(len(old), 420), acq[old] - 1),
        K[EventKind.COMPLAINT],
        cost=_huf(rng, 2000, 8000, len(old)),
        handler=owner[old],
        status=0,
    )
    # Service contacts.
    n_serv = np.where(demanding, rng.integers(3, 9, n), rng.poisson(1.0, n) * normal)
    c = np.repeat(np.arange(n), n_serv)
    day = np.where(
        demanding[c],
        _within(rng, np.full(len(c), 3), np.full(len(c), 330)),
        _within(rng, np.ones(len(c), np.int64), acq[c] - 1),
    )
    b.add(
        idx[c],
        day,
        K[EventKind.SERVICE_CONTACT],
        cost=_huf(rng, 1500, 4000, len(c)),
        handler=owner[c],
    )
    # Returns on the latest completed order.
    ret = np.flatnonzero(
        has_order & ((demanding & (rng.random(n) < 0.8)) | (normal & (rng.random(n) < 0.1)))
    )
    share = np.where(
        demanding[ret], 0.3 + 0.3 * rng.random(len(ret)), 0.1 + 0.2 * rng.random(len(ret))
    )
    o = ob.last_order[ret]
    b.add(
        idx[ret],
        ob.order_day[o] - rng.integers(1, 6, len(ret)),
        K[EventKind.RETURN],
        amount=np.floor(ob.order_total[o] * share / HUF).astype(np.int64) * HUF,
        order=o,
        handler=owner[ret],
    )
    # Refunds, bonuses, promotions, credits.
    member = pop.rung[idx] >= Rung.MEMBER
    for kind, p_normal, p_dem, lo_huf, hi_huf in (
        (EventKind.REFUND, 0.05, 0.6, 1000, 5000),
        (EventKind.BONUS, 0.0, 0.5, 1000, 5000),
        (EventKind.PROMOTION, 0.2, 0.5, 500, 3000),
        (EventKind.CREDIT, 0.05, 0.6, 1000, 5000),
    ):
        p = np.where(demanding, p_dem, p_normal * normal)
        if kind is EventKind.BONUS:
            p = np.where(demanding, p_dem, 0.5 * (member & normal))
        sel = np.flatnonzero(rng.random(n) < p)
        day = np.where(
            demanding[sel],
            _within(rng, np.full(len(sel), 3), np.full(len(sel), 330)),
            _within(rng, np.ones(len(sel), np.int64), acq[sel] - 1),
        )
        b.add(
            idx[sel], day, K[kind], amount=_huf(rng, lo_huf, hi_huf, len(sel)), handler=owner[sel]
        )
    del lo


def _scale_money(
    cols: dict[str, IntArray],
    start: int,
    ob: OrderBlock,
    pop: Population,
    idx: IntArray,
    cat: IntArray,
    cac: IntArray,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Size cost-to-serve per customer to the planted target; return whole-history net."""
    n, lo = len(idx), int(idx[0]) if len(idx) else 0
    local = cols["customer"][start:] - lo
    money = np.maximum(cols["amount"][start:], 0) + np.maximum(cols["cost"][start:], 0)
    is_return = cols["kind"][start:] == K[EventKind.RETURN]
    trailing = cols["day"][start:] <= TRAILING + 2
    gw, gt = np.maximum(ob.gm_whole, 0), np.maximum(ob.gm_trailing, 0)
    raw_w = np.bincount(local, weights=money, minlength=n)
    raw_t = np.bincount(local, weights=money * trailing, minlength=n)
    ret_w = np.bincount(local, weights=money * is_return, minlength=n)
    demanding = cat == CATEGORY_CODES.index(ValueCategory.DEMANDING)
    loss = pop.loss_maker[idx] & demanding
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.minimum(0.1 * gw / raw_w, 0.1 * gt / raw_t)
        target_loss = (1.6 + 1.4 * rng.random(n)) * gw + (5000 + 15000 * rng.random(n)) * HUF
        target_dem = np.minimum((0.6 + 0.2 * rng.random(n)) * gt, 0.7 * gw - cac)
        f_loss = (target_loss - ret_w) / (raw_w - ret_w)
        f_dem = np.maximum(target_dem - ret_w, 0) / (raw_w - ret_w)
    factor = np.where(demanding, np.where(loss, f_loss, f_dem), np.minimum(cap, 1.0))
    factor = np.nan_to_num(factor, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0)
    scale = np.where(demanding[local] & is_return, 1.0, factor[local])
    for f in ("amount", "cost"):
        col = cols[f][start:]
        scaled = (np.floor(col * scale / HUF) * HUF).astype(np.int64)
        cols[f][start:] = np.where(col >= 0, scaled, -1)
    money = np.maximum(cols["amount"][start:], 0) + np.maximum(cols["cost"][start:], 0)
    net: NDArray[np.float64] = ob.gm_whole - np.bincount(local, weights=money, minlength=n) - cac
    return net
