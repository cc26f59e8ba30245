"""Policy values of the lifetime-value step of a score run (thresholds are data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from clientbase.errors import ConfigurationError

__all__ = ["LifetimeOptions"]


@dataclass(frozen=True, slots=True)
class LifetimeOptions:
    """How score runs fit and use the lifetime-value models (issue #4, DESIGN §1 "Money").

    Attributes
    ----------
    enabled
        Fit the models in score runs (``false``: the rhythm-based rule alone).
    model
        ``"bgnbd"`` (BG/NBD, Fader, Hardie & Lee 2005) or ``"pareto"`` (Pareto/NBD,
        Schmittlein, Morrison & Colombo 1987) for purchases and P(alive).
    min_repeat_buyers
        Fewer customers with a repeat purchase than this and no model is fitted: the run
        falls back to the rhythm-based activity rule and says why.
    min_customers
        Fewer buyers in all than this and no model is fitted.
    horizon_months
        CLV horizon.
    annual_discount_rate
        Cost of capital used to discount future margin.
    """

    enabled: bool = True
    model: Literal["bgnbd", "pareto"] = "bgnbd"
    min_repeat_buyers: int = 30
    min_customers: int = 100
    horizon_months: int = 12
    annual_discount_rate: float = 0.10

    def __post_init__(self) -> None:
        if self.model not in ("bgnbd", "pareto"):
            raise ConfigurationError(
                f"lifetime.model must be 'bgnbd' or 'pareto', not {self.model!r}"
            )
        if self.min_repeat_buyers < 2 or self.min_customers < 2:
            raise ConfigurationError("lifetime.min_repeat_buyers and min_customers must be >= 2")
        if not 1 <= self.horizon_months <= 120:
            raise ConfigurationError("lifetime.horizon_months must lie in 1..120")
        if not 0.0 <= self.annual_discount_rate < 1.0:
            raise ConfigurationError("lifetime.annual_discount_rate must lie in [0, 1)")
