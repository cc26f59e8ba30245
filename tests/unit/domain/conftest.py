"""Hand-built customers for the rule tests: features of one customer as arrays of length 1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from clientbase.domain.ladder import Classification, classify
from clientbase.domain.policy import Policy, default_policy

BASE: dict[str, Any] = {
    "occasions": 0,
    "occasions_trailing": 0,
    "days_since_last": 0,
    "median_gap_days": float("nan"),
    "interest_signals": 0,
    "loyalty_enrolled": False,
    "promoter_answers": 0,
    "good_reviews": 0,
    "testimonials": 0,
    "nps_latest": -1,
    "referrals_converted": 0,
    "cancelled": False,
    "complaints_trailing": 0,
    "cost_to_serve_trailing_minor": 0,
    "gross_margin_trailing_minor": 0,
    "cost_to_serve_minor": 0,
    "net_contribution_minor": 0,
    "net_contribution_trailing_minor": 0,
}

# A regular, profitable, quiet buyer: a member on every default threshold.
MEMBER: dict[str, Any] = {
    **BASE,
    "occasions": 8,
    "occasions_trailing": 5,
    "days_since_last": 20,
    "median_gap_days": 40.0,
    "gross_margin_trailing_minor": 50_000,
    "net_contribution_minor": 90_000,
    "net_contribution_trailing_minor": 40_000,
}


def one(
    features: dict[str, Any], policy: Policy | None = None, p_alive: float | None = None
) -> Classification:
    arrays = {k: np.array([v]) for k, v in features.items()}
    p = None if p_alive is None else np.array([p_alive])
    return classify(arrays, policy or default_policy(), p)


@pytest.fixture
def policy() -> Policy:
    return default_policy()
