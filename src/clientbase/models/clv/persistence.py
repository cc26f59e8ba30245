"""Saving and loading fitted CLV models as JSON (never pickle).

A saved model is one JSON object: a format tag, the model class, the library version, the
configuration (the constructor's parameters), the fitted parameters, the covariance of the
log-parameters (for standard errors), the log-likelihood, the number of customers and a
fingerprint of the data it was fitted on. Loading checks the tag and the class name against
a fixed list, so a file can never make us build an arbitrary object.
"""

from __future__ import annotations

import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from clientbase.errors import InvalidInput
from clientbase.models.clv._base import LifetimeModel

__all__ = ["FORMAT", "load_model", "model_from_dict", "model_to_dict", "save_model"]

FORMAT = "clientbase.clv-model/1"


def _registry() -> dict[str, type[LifetimeModel]]:
    from clientbase.models.clv.beta_geo import BetaGeoModel
    from clientbase.models.clv.gamma_gamma import GammaGammaModel
    from clientbase.models.clv.pareto_nbd import ParetoNBDModel

    return {cls.__name__: cls for cls in (BetaGeoModel, ParetoNBDModel, GammaGammaModel)}


def _library_version() -> str:
    try:
        return metadata.version("clientbase")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def model_to_dict(model: LifetimeModel) -> dict[str, Any]:
    """The JSON-ready description of a fitted model."""
    model.check_is_fitted()
    extra = {k: v for k, v in vars(model).items() if k == "n_excluded_"}
    return {
        "format": FORMAT,
        "model": type(model).__name__,
        "library_version": _library_version(),
        "config": model.get_params(),
        "params": dict(model.params_),
        "log_covariance": np.asarray(model._log_covariance).tolist(),
        "log_likelihood": model.log_likelihood_,
        "n_customers": model.n_customers_,
        "n_unique_rows": model.n_unique_rows_,
        "data_fingerprint": model.data_fingerprint_,
        "extra": extra,
    }


def model_from_dict(data: dict[str, Any]) -> LifetimeModel:
    """Rebuild a fitted model from :func:`model_to_dict`'s output, checking it on the way."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"This is not a saved clientbase CLV model (format {FORMAT}).")
    registry = _registry()
    name = data.get("model")
    if name not in registry:
        raise InvalidInput(f"Unknown model class {name!r} in the saved file.")
    cls = registry[name]
    try:
        model = cls(**data["config"])
        params = {key: float(data["params"][key]) for key in cls.param_names}
        covariance = np.asarray(data["log_covariance"], dtype=np.float64)
        log_likelihood = float(data["log_likelihood"])
        fingerprint = str(data["data_fingerprint"])
        n_customers, n_rows = int(data["n_customers"]), int(data["n_unique_rows"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"The saved {name} is incomplete or damaged ({exc}).") from exc
    k = len(cls.param_names)
    if covariance.shape != (k, k) or not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise InvalidInput(f"The saved {name} has invalid parameters.")
    model._set_fitted(params, log_likelihood, covariance, fingerprint, n_customers, n_rows)
    for key, value in data.get("extra", {}).items():
        if key == "n_excluded_":
            model.n_excluded_ = int(value)  # type: ignore[attr-defined]
    return model


def save_model(model: LifetimeModel, path: str | Path) -> None:
    """Write ``model`` to ``path`` as JSON."""
    Path(path).write_text(json.dumps(model_to_dict(model), indent=2) + "\n", encoding="utf-8")


def load_model(path: str | Path) -> LifetimeModel:
    """Read a model written by :func:`save_model`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"Cannot read a saved model from {path}: {exc}.") from exc
    return model_from_dict(data)
