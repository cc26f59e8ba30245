"""Customer-level planting: who each customer is, their archetype, acquisition and referrals.

Everything is a numpy array indexed by ``customer id - 1``. Days are counted back from the
as-of date (``1`` = the day before it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from clientbase.demo import plan
from clientbase.demo.cast import KEY_ACCOUNT_REP_ID, PARTNERS, REPRESENTATIVE_IDS
from clientbase.demo.vocab import COUNTRIES, COUNTRY_SHARES, SEGMENTS
from clientbase.domain.vocabulary import AcquisitionChannel, Rung, ValueCategory

__all__ = ["Population", "plant_population"]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

CHANNEL_INDEX = {c: i for i, c in enumerate(plan.CHANNELS)}
ARCH_INDEX = {a.code: i for i, a in enumerate(plan.ARCHETYPES)}
RUNGS = np.array([int(a.rung) for a in plan.ARCHETYPES], dtype=np.int64)
CATEGORY_CODES: tuple[ValueCategory | None, ...] = (None, *ValueCategory)
CATEGORY = np.array([CATEGORY_CODES.index(a.category) for a in plan.ARCHETYPES], dtype=np.int64)


@dataclass(slots=True)
class Population:
    """The planted customers (arrays of length ``n``)."""

    n: int
    segment: IntArray
    company: BoolArray
    country: IntArray
    city: IntArray
    gender: IntArray  # 0 female, 1 male, -1 none (companies)
    channel: IntArray
    archetype: IntArray
    acquired_day: IntArray
    enrolled: BoolArray
    loss_maker: BoolArray
    cancel_day: IntArray  # 0 = no cancellation
    owner: IntArray  # 0 = unassigned
    referrer: IntArray  # customer id, 0 = none
    partner: IntArray  # partner id, 0 = none
    rate: NDArray[np.float64]  # purchase occasions a year (regular buyers)
    last_day: IntArray
    first_day: IntArray  # day of the oldest purchase occasion (buyers)
    occ_customer: IntArray  # purchase occasions: customer index, sorted ...
    occ_day: IntArray  # ... and its day, the most recent first within a customer

    @property
    def rung(self) -> IntArray:
        return RUNGS[self.archetype]

    @property
    def category(self) -> IntArray:
        """Index into :data:`CATEGORY_CODES` (0 = none)."""
        return CATEGORY[self.archetype]


def _uniform_int(rng: np.random.Generator, lo: int, hi: int, size: int) -> IntArray:
    return rng.integers(lo, hi + 1, size=size, dtype=np.int64)


def _choose(rng: np.random.Generator, weights: NDArray[np.float64], size: int) -> IntArray:
    p = weights / weights.sum()
    return rng.choice(len(p), size=size, p=p).astype(np.int64)


def plant_population(n: int, rng: np.random.Generator) -> Population:
    """Draw ``n`` customers with their planted archetype, history frame and relations."""
    seg_w = np.array([s.weight for s in SEGMENTS])
    segment = _choose(rng, seg_w, n)
    company = np.array([s.company for s in SEGMENTS])[segment]
    country = _choose(rng, np.array(COUNTRY_SHARES), n)
    city = np.zeros(n, dtype=np.int64)
    for ci, ctry in enumerate(COUNTRIES):
        urban = np.array([c[3] for c in ctry.cities])
        for si, seg in enumerate(SEGMENTS):
            mask = (country == ci) & (segment == si)
            if seg.urban is None:
                w = np.ones(len(urban))
            else:
                w = np.where(urban == seg.urban, 1.0, 0.05)
            city[mask] = _choose(rng, w, int(mask.sum()))
    gender = np.where(company, -1, rng.integers(0, 2, size=n))

    channel = np.zeros(n, dtype=np.int64)
    for is_company, shares in (
        (False, plan.CHANNEL_SHARES_PERSON),
        (True, plan.CHANNEL_SHARES_COMPANY),
    ):
        mask = company == is_company
        channel[mask] = _choose(rng, np.array(shares), int(mask.sum()))
    archetype = np.zeros(n, dtype=np.int64)
    for chi, ch in enumerate(plan.CHANNELS):
        for si, seg in enumerate(SEGMENTS):
            mask = (channel == chi) & (segment == si)
            archetype[mask] = _choose(rng, plan.archetype_weights(ch, seg.climb), int(mask.sum()))

    pop = Population(
        n=n,
        segment=segment,
        company=company,
        country=country,
        city=city,
        gender=gender,
        channel=channel,
        archetype=archetype,
        acquired_day=np.zeros(n, dtype=np.int64),
        enrolled=np.zeros(n, dtype=np.bool_),
        loss_maker=np.zeros(n, dtype=np.bool_),
        cancel_day=np.zeros(n, dtype=np.int64),
        owner=np.zeros(n, dtype=np.int64),
        referrer=np.zeros(n, dtype=np.int64),
        partner=np.zeros(n, dtype=np.int64),
        rate=np.zeros(n),
        last_day=np.zeros(n, dtype=np.int64),
        first_day=np.zeros(n, dtype=np.int64),
        occ_customer=np.zeros(0, dtype=np.int64),
        occ_day=np.zeros(0, dtype=np.int64),
    )
    _plant_timeline(pop, rng)
    _plant_referrals(pop, rng)
    _plant_ownership(pop, rng)
    return pop


def _plant_timeline(pop: Population, rng: np.random.Generator) -> None:
    """Acquisition day, activity frame, enrolment, cancellation and loss-making flags."""
    n = pop.n
    code = np.array([a.code for a in plan.ARCHETYPES])[pop.archetype]
    variant = np.array([a.variant for a in plan.ARCHETYPES])[pop.archetype]
    seg_lo = np.array([s.member_rate[0] for s in SEGMENTS])[pop.segment]
    seg_hi = np.array([s.member_rate[1] for s in SEGMENTS])[pop.segment]

    count = np.zeros(n, dtype=np.int64)
    gap_lo = np.zeros(n)
    gap_hi = np.zeros(n)
    tenure = np.full(n, plan.HISTORY_DAYS, dtype=np.int64)

    m = code == "suspect"
    pop.acquired_day[m] = _uniform_int(rng, 30, 1500, int(m.sum()))
    m = code == "prospect"
    pop.acquired_day[m] = _uniform_int(rng, 20, 700, int(m.sum()))
    for name, lo, hi in (
        ("first_average", 20, 300),
        ("first_lost", 450, 1800),
        ("first_lost_cancelled", 60, 300),
        ("first_demanding", 60, 250),
    ):
        m = code == name
        pop.last_day[m] = _uniform_int(rng, lo, hi, int(m.sum()))
        count[m] = 1
    # Clients: 2-5 occasions 190-330 days apart, the last 10-60 days ago (lost: long ago).
    m = (variant == "sparse") | (code == "client_lost_cancelled")
    count[m] = _uniform_int(rng, 2, 5, int(m.sum()))
    pop.last_day[m] = _uniform_int(rng, 10, 60, int(m.sum()))
    gap_lo[m], gap_hi[m] = 190.0, 330.0
    m = code == "client_lost"
    count[m] = _uniform_int(rng, 2, 6, int(m.sum()))
    pop.last_day[m] = _uniform_int(rng, 450, 1200, int(m.sum()))
    gap_lo[m], gap_hi[m] = 30.0, 120.0
    # Regular buyers (members and above).
    m = variant == "regular"
    cnt = int(m.sum())
    pop.rate[m] = seg_lo[m] + rng.random(cnt) * (seg_hi[m] - seg_lo[m])
    enrol_only = m & (code == "member_loyal") & (rng.random(n) < 0.2)
    pop.rate[enrol_only] = 3.0 + rng.random(int(enrol_only.sum())) * 1.5
    pop.enrolled[m] = rng.random(cnt) < 0.25
    pop.enrolled[enrol_only] = True
    gap = 365.0 / np.maximum(pop.rate, 1.0)
    last = np.maximum(1, np.floor(rng.random(n) * 0.5 * gap)).astype(np.int64)
    last = np.where(enrol_only, _uniform_int(rng, 1, 30, n), last)
    pop.last_day[m] = last[m]
    tenure[m] = _uniform_int(rng, 400, 900, cnt)
    count[m] = np.ceil((tenure[m] - last[m]) / (0.5 * gap[m])).astype(np.int64) + 1
    gap_lo[m], gap_hi[m] = 0.5 * gap[m], 1.5 * gap[m]
    _draw_occasions(pop, rng, count, gap_lo, gap_hi, tenure)
    # Enrolment is also planted where it cannot lift anyone to member.
    quiet = np.isin(code, ["first_average", "first_lost", "client_lost"])
    pop.enrolled[quiet] = rng.random(int(quiet.sum())) < 0.08
    # Cancellations come after the last purchase.
    m = np.isin(code, ["first_lost_cancelled", "client_lost_cancelled"])
    pop.cancel_day[m] = 3 + np.floor(rng.random(int(m.sum())) * (pop.last_day[m] - 5)).astype(
        np.int64
    )
    demanding = pop.category == CATEGORY_CODES.index(ValueCategory.DEMANDING)
    pop.loss_maker[demanding] = rng.random(int(demanding.sum())) < 0.6
    buyer = pop.rung >= Rung.FIRST_TIME_BUYER
    pop.acquired_day[buyer] = pop.first_day[buyer] + _uniform_int(rng, 0, 30, int(buyer.sum()))


def _draw_occasions(
    pop: Population,
    rng: np.random.Generator,
    count: IntArray,
    gap_lo: NDArray[np.float64],
    gap_hi: NDArray[np.float64],
    tenure: IntArray,
) -> None:
    """Ragged purchase-occasion days: the last day, then gaps back in time, within tenure.

    Per-occasion copies of customer columns use ``np.repeat`` (a sequential copy), not a
    gather by customer index: same values, a fraction of the time on ten million rows.
    """
    cust = np.repeat(np.arange(pop.n, dtype=np.int64), count)
    starts = np.cumsum(count) - count
    lo = np.repeat(gap_lo, count)
    gaps = lo + rng.random(len(cust)) * (np.repeat(gap_hi, count) - lo)
    gaps[starts[count > 0]] = 0.0
    run = np.cumsum(gaps)
    nz = count > 0
    run -= np.repeat(run[starts[nz]], count[nz])
    day = np.repeat(pop.last_day, count) + np.rint(run).astype(np.int64)
    keep = (day <= np.repeat(tenure, count)) & (day <= plan.HISTORY_DAYS)
    pop.occ_customer = cust[keep]
    pop.occ_day = day[keep]
    first = np.zeros(pop.n, dtype=np.int64)
    kept = np.bincount(pop.occ_customer, minlength=pop.n)
    if len(pop.occ_customer):  # the oldest occasion of each customer (occasions grouped)
        starts = (np.cumsum(kept) - kept)[kept > 0]
        first[kept > 0] = np.maximum.reduceat(pop.occ_day, starts)
    pop.first_day = first


def _plant_referrals(pop: Population, rng: np.random.Generator) -> None:
    """Referrers for referral-channel customers; every partner gets a referee who bought.

    The referrer was always acquired at least 30 days before the referee, so chains
    (A referred B referred C) run forward in time and never loop.
    """
    ref_ch = CHANNEL_INDEX[AcquisitionChannel.REFERRAL]
    rung = pop.rung
    acq = pop.acquired_day
    is_partner = rung == Rung.PARTNER
    partners = np.flatnonzero(is_partner)
    partners = partners[np.argsort(acq[partners], kind="stable")]
    buyer_referees = np.flatnonzero((pop.channel == ref_ch) & (rung >= Rung.FIRST_TIME_BUYER))
    buyer_referees = buyer_referees[np.argsort(acq[buyer_referees], kind="stable")]
    # Greedy matching, both sides by acquisition: the most recent referee to the most recent
    # partner that was acquired 30+ days before it.
    j = 0
    demote: list[int] = []
    for p in partners:
        while j < len(buyer_referees) and pop.referrer[buyer_referees[j]] != 0:
            j += 1
        if (
            j < len(buyer_referees)
            and acq[buyer_referees[j]] + 30 <= acq[p]
            and (buyer_referees[j] != p)
        ):
            pop.referrer[buyer_referees[j]] = p + 1
            j += 1
        else:
            demote.append(int(p))
    if demote:  # no buyer could be found for them: they stay advocates
        pop.archetype[demote] = ARCH_INDEX["advocate_loyal"]
        partners = np.setdiff1d(partners, demote)
        partners = partners[np.argsort(acq[partners], kind="stable")]
    p_acq = acq[partners]
    open_refs = buyer_referees[pop.referrer[buyer_referees] == 0]
    _attach(pop, rng, open_refs, partners, p_acq)
    # Referrals that never bought: referred by any buyer acquired earlier.
    non_buyers = np.flatnonzero((pop.channel == ref_ch) & (rung < Rung.FIRST_TIME_BUYER))
    buyers = np.flatnonzero((pop.rung >= Rung.FIRST_TIME_BUYER) & (pop.rung < Rung.PARTNER))
    buyers = buyers[np.argsort(acq[buyers], kind="stable")]
    _attach(pop, rng, non_buyers, buyers, acq[buyers])
    # Partner-channel customers name the partner company that brought them.
    part_ch = pop.channel == CHANNEL_INDEX[AcquisitionChannel.PARTNER]
    pop.partner[part_ch] = rng.integers(1, len(PARTNERS) + 1, size=int(part_ch.sum()))


def _attach(
    pop: Population,
    rng: np.random.Generator,
    referees: IntArray,
    referrers: IntArray,
    referrer_acq: IntArray,
) -> None:
    """Give each referee a random referrer acquired 30+ days earlier, else no referral."""
    if len(referees) == 0:
        return
    start = np.searchsorted(referrer_acq, pop.acquired_day[referees] + 30, side="left")
    room = len(referrers) - start
    ok = room > 0
    pick = start[ok] + np.floor(rng.random(int(ok.sum())) * room[ok]).astype(np.int64)
    pop.referrer[referees[ok]] = referrers[pick] + 1
    pop.channel[referees[~ok]] = CHANNEL_INDEX[AcquisitionChannel.ORGANIC]


def _plant_ownership(pop: Population, rng: np.random.Generator) -> None:
    """Owners: the key-account rep holds most large companies; half the suspects are unowned."""
    reps = np.array(REPRESENTATIVE_IDS)
    w = np.where(reps == KEY_ACCOUNT_REP_ID, 0.3, 1.0)
    pop.owner[:] = reps[_choose(rng, w, pop.n)]
    large = pop.segment == [s.code for s in SEGMENTS].index("company_large_enterprise")
    key = large & (rng.random(pop.n) < 0.8)
    pop.owner[key] = KEY_ACCOUNT_REP_ID
    suspect = pop.rung == Rung.SUSPECT
    pop.owner[suspect & (rng.random(pop.n) < 0.5)] = 0
