"""The demo business in a real store: round-trip, planted truths checked from raw rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from clientbase.config import get_settings
from clientbase.errors import Conflict
from clientbase.services.demo import build_demo

AS_OF = pd.Timestamp("2026-06-30")


@pytest.fixture
def demo(store_url: str, engine: Engine) -> Engine:
    result = build_demo(get_settings(db=store_url), customers=1500, seed=3)
    assert result.stats.rows["customers"] == 1500
    return engine


def _read(engine: Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


def _direct_rungs(engine: Engine) -> pd.DataFrame:
    """The rules of docs/policy-defaults.md computed straight from the raw rows."""
    cust = _read(
        engine, "SELECT id, referred_by_customer_id, acquisition_campaign_id FROM customers"
    )
    orders = _read(
        engine, "SELECT customer_id, ordered_at, status, total_minor, cost_minor FROM orders"
    )
    ev = _read(
        engine,
        "SELECT customer_id, occurred_at, kind, amount_minor, cost_minor, rating, "
        "related_customer_id FROM events",
    )
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"])
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"])
    done = orders[orders.status == "completed"].copy()
    done["day"] = done.ordered_at.dt.normalize()
    occ = done.groupby("customer_id")["day"].agg(lambda d: sorted(set(d)))
    out = pd.DataFrame(index=cust.id)
    out["n_occ"] = occ.reindex(out.index).map(lambda d: len(d) if isinstance(d, list) else 0)
    ago = (AS_OF - done.ordered_at).dt.days
    out["trail_occ"] = (
        done[ago < 365].groupby("customer_id")["day"].nunique().reindex(out.index).fillna(0)
    )

    def active(days: object) -> bool:
        if not isinstance(days, list) or not days:
            return False
        since = (AS_OF - days[-1]).days
        if len(days) == 1:
            return since <= 365
        gap = float(np.median(np.diff([d.value for d in days]) / 86_400e9))
        return since <= max(90, 3 * gap) and since <= 365

    out["active"] = occ.reindex(out.index).map(active)
    kinds = ev.groupby("customer_id")["kind"].agg(set).reindex(out.index)
    has = lambda k: kinds.map(lambda s: isinstance(s, set) and k in s)  # noqa: E731
    interest = (
        has("enquiry")
        | has("quote_request")
        | has("information_request")
        | has("campaign_response")
    )
    e_ago = (AS_OF - ev.occurred_at).dt.days
    adv = ev[
        (e_ago < 730)
        & (
            ((ev.kind == "nps") & (ev.rating >= 9))
            | ((ev.kind == "review") & (ev.rating >= 4))
            | (ev.kind == "testimonial")
        )
    ]
    nps = ev[ev.kind == "nps"].sort_values("occurred_at").groupby("customer_id")["rating"].last()
    buyers = set(out.index[out.n_occ > 0])
    referred = set(ev[(ev.kind == "referral") & ev.related_customer_id.isin(buyers)].customer_id)
    referred |= set(
        cust[
            cust.id.isin(buyers) & cust.referred_by_customer_id.notna()
        ].referred_by_customer_id.astype(int)
    )
    rung = np.select([out.n_occ == 0, out.n_occ == 1], [np.where(interest, 2, 1), 3], 4)
    member = (rung == 4) & ((out.trail_occ >= 4) | has("loyalty_enrolment")) & out.active
    advocate = member & out.index.isin(adv.customer_id) & ~(nps.reindex(out.index) <= 6)
    rung = np.where(member, 5, rung)
    rung = np.where(advocate, 6, rung)
    rung = np.where(advocate & out.index.isin(list(referred)), 7, rung)
    out["rung"] = rung
    # Net contribution, whole history (for the loss-makers).
    money = ev.amount_minor.fillna(0) + ev.cost_minor.fillna(0)
    cts = money.groupby(ev.customer_id).sum().reindex(out.index).fillna(0)
    gm = (
        (done.total_minor - done.cost_minor)
        .groupby(done.customer_id)
        .sum()
        .reindex(out.index)
        .fillna(0)
    )
    camp = _read(engine, "SELECT id, cost_minor FROM campaigns")
    won = cust.acquisition_campaign_id.value_counts()
    share = camp.set_index("id").cost_minor / won.reindex(camp.id).values
    cac = cust.set_index("id").acquisition_campaign_id.map(share).fillna(0)
    out["net"] = gm - cts - cac
    out["cts"] = cts
    return out


def test_planted_rungs_match_a_direct_computation_of_the_rules(demo: Engine) -> None:
    truth = _read(demo, "SELECT customer_id, rung, category, traits FROM demo_truths").set_index(
        "customer_id"
    )
    direct = _direct_rungs(demo)
    agree = (direct.rung.reindex(truth.index) == truth.rung).mean()
    assert agree >= 0.99, f"rung agreement {agree:.3f}"
    traits = truth.traits.map(lambda t: t if isinstance(t, dict) else json.loads(t))
    loss = traits.map(lambda t: t["loss_maker"])
    assert loss.sum() > 20
    assert (direct.net.reindex(truth.index)[loss] < 0).all()
    assert (direct.cts.reindex(truth.index)[loss] > 0).all()
    assert set(traits.map(lambda t: t["as_of"])) == {"2026-06-30"}


def test_staff_campaigns_and_referral_chains(demo: Engine) -> None:
    users = _read(demo, "SELECT id, role, active, left_at FROM users")
    reps = users[users.role == "representative"]
    assert len(reps) >= 4 and ((~reps.active.astype(bool)) & reps.left_at.notna()).sum() == 1
    assert {"manager", "analyst", "admin"} <= set(users.role)
    share = (
        _read(
            demo,
            "SELECT owner_id, SUM(total_minor) AS rev FROM orders o JOIN customers c "
            "ON c.id = o.customer_id WHERE c.kind = 'company' AND o.status = 'completed' "
            "GROUP BY owner_id",
        )
        .set_index("owner_id")
        .rev
    )
    assert share.idxmax() == 4 and share[4] / share.sum() > 0.3  # the key-account rep
    chains = _read(
        demo,
        "SELECT COUNT(*) AS n FROM customers a JOIN customers b ON "
        "b.referred_by_customer_id = a.id JOIN customers c ON "
        "c.referred_by_customer_id = b.id",
    )
    assert chains.n[0] > 0
    members = _read(
        demo,
        "SELECT m.campaign_id, m.customer_id, m.arm, t.planted_uplift_minor, "
        "cp.starts_on, cp.ends_on FROM campaign_members m JOIN "
        "demo_campaign_truths t ON t.campaign_id = m.campaign_id JOIN campaigns cp "
        "ON cp.id = m.campaign_id WHERE t.purpose = 'uplift'",
    )
    assert set(members.arm) == {"treatment", "control"}
    orders = _read(
        demo,
        "SELECT customer_id, campaign_id, total_minor FROM orders "
        "WHERE status = 'completed' AND campaign_id IS NOT NULL",
    )
    for cid, grp in members.groupby("campaign_id"):
        spend = orders[orders.campaign_id == cid].groupby("customer_id").total_minor.sum()
        per = grp.set_index("customer_id").assign(spend=spend).fillna({"spend": 0})
        by_arm = per.groupby("arm").spend.mean()
        assert by_arm["control"] == 0
        assert abs(by_arm["treatment"] - grp.planted_uplift_minor.iloc[0]) <= 1, cid


def test_refuses_a_store_with_data_unless_replace(sqlite_url: str) -> None:
    settings = get_settings(db=sqlite_url)
    build_demo(settings, customers=200, seed=1)
    with pytest.raises(Conflict):
        build_demo(settings, customers=200, seed=1)
    again = build_demo(settings, customers=300, seed=2, replace=True)
    assert again.stats.rows["customers"] == 300
