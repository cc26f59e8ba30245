"""Ibis query builders that never execute; `engine.py` is the one place that runs them.

The public entry points::

    analyze_transactions(data, customer_col, date_col, amount_col, as_of=None)
        RFM, purchase-based rung and category of every customer of a transactions table
        (an Ibis table, or a pandas / polars / Arrow frame), without a store.
    customer_features(inputs, as_of, policy)   the feature expression (Ibis)
    score_inputs(inputs, as_of, policy)        features + rules into an Arrow table
    classify_features(features, policy)        the rules over an Arrow table of features
"""

from clientbase.analytics.engine import Engine
from clientbase.analytics.features import FeatureInputs, customer_features
from clientbase.analytics.quick import analyze_transactions, transaction_inputs
from clientbase.analytics.scoring import classify_features, score_inputs

__all__ = [
    "Engine",
    "FeatureInputs",
    "analyze_transactions",
    "classify_features",
    "customer_features",
    "score_inputs",
    "transaction_inputs",
]
