"""Customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma and the CLV combiner.

All models follow the scikit-learn contract (``fit`` returns ``self``, learned state ends in
``_``, predictions raise :class:`clientbase.errors.NotFittedError` before ``fit``), accept
numpy arrays, lists or pandas columns, and save to JSON.
"""

from clientbase.models.clv.beta_geo import BetaGeoModel
from clientbase.models.clv.clv import (
    PurchaseModel,
    discounted_expected_purchases,
    expected_clv,
    monthly_discount_rate,
)
from clientbase.models.clv.gamma_gamma import GammaGammaModel
from clientbase.models.clv.pareto_nbd import ParetoNBDModel
from clientbase.models.clv.persistence import load_model, model_from_dict, model_to_dict, save_model
from clientbase.models.clv.summary import TransactionSummary, summary_from_transactions

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ParetoNBDModel",
    "PurchaseModel",
    "TransactionSummary",
    "discounted_expected_purchases",
    "expected_clv",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "monthly_discount_rate",
    "save_model",
    "summary_from_transactions",
]
