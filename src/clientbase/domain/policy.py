"""The scoring policy: every threshold of the ladder, the categories and RFM, as data.

The documented default ships as ``policy_default.toml`` beside this module
(docs/policy-defaults.md). A user's policy is a TOML text holding any subset of the same
keys; :func:`parse_policy` lays it over the default, validates every value and returns a
frozen :class:`Policy`. :func:`policy_hash` identifies the resolved policy, so that a score
run records exactly which rules produced it.

Reading the user's file is the caller's business (services); this module only parses text
and reads the default that ships inside the package.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any

from clientbase.domain.lifetime import LifetimeOptions
from clientbase.errors import ConfigurationError

__all__ = [
    "ActivityRules",
    "CategoryRules",
    "Policy",
    "RfmRules",
    "RfmSegmentRule",
    "RungRules",
    "Windows",
    "default_policy",
    "parse_policy",
    "policy_hash",
]


@dataclass(frozen=True, slots=True)
class Windows:
    """Trailing windows, in days before (and including) the as-of date."""

    trailing_days: int
    advocacy_days: int


@dataclass(frozen=True, slots=True)
class ActivityRules:
    """When a buyer still counts as active (rhythm-based; P(alive) when supplied)."""

    min_allowed_days: int
    gap_multiplier: float
    max_allowed_days: int
    one_time_buyer_days: int
    p_alive_min: float


@dataclass(frozen=True, slots=True)
class RungRules:
    """Thresholds of rungs 5-7 (rungs 1-4 follow from the definitions)."""

    member_min_occasions: int
    member_by_loyalty_enrolment: bool
    advocate_nps_min: int
    advocate_review_min: int
    advocate_by_testimonial: bool
    detractor_nps_max: int
    partner_min_converted_referrals: int


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """Thresholds of the four value categories."""

    demanding_min_complaints: int
    demanding_cost_to_serve_share: float
    demanding_negative_contribution: bool
    loyal_min_rung: int
    loyal_max_complaints: int
    loyal_min_net_contribution_minor: int


@dataclass(frozen=True, slots=True)
class RfmSegmentRule:
    """A named RFM segment: inclusive ranges of the R, F and M scores."""

    name: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]


@dataclass(frozen=True, slots=True)
class RfmRules:
    bins: int
    segments: tuple[RfmSegmentRule, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """The resolved scoring policy (default overlaid with the user's file)."""

    version: int
    windows: Windows
    activity: ActivityRules
    rungs: RungRules
    categories: CategoryRules
    rfm: RfmRules
    lifetime: LifetimeOptions

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready mapping (the form stored with a score run)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Rebuild a policy from :meth:`to_dict`'s output (complete, validated)."""
        return _build(data)


def policy_hash(policy: Policy) -> str:
    """SHA-256 of the canonical JSON of the resolved policy (64 hex digits)."""
    canonical = json.dumps(policy.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@lru_cache(maxsize=1)
def _default_mapping_text() -> str:
    return resources.files("clientbase.domain").joinpath("policy_default.toml").read_text("utf-8")


def default_policy() -> Policy:
    """The policy that ships with clientbase (``policy_default.toml``)."""
    return parse_policy("")


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    """Lay the TOML ``text`` over the default policy and validate the result.

    Tables merge key by key; a list (``rfm.segments``) replaces the default list whole.

    Raises
    ------
    ConfigurationError
        The text is not TOML, names an unknown key or holds a value of the wrong type.
    """
    base = tomllib.loads(_default_mapping_text())
    try:
        override = tomllib.loads(text) if text.strip() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid TOML: {exc}") from exc
    merged = _merge(base, override, source, path="")
    return _build(merged, source=source)


def _merge(base: dict[str, Any], over: dict[str, Any], source: str, path: str) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        where = f"{path}{key}"
        if key not in base:
            raise ConfigurationError(f"{source}: unknown policy key {where!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigurationError(f"{source}: {where!r} must be a table")
            out[key] = _merge(base[key], value, source, path=f"{where}.")
        else:
            out[key] = value
    return out


def _typed(cls: type[Any], data: Any, source: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: {where!r} must be a table")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    missing = names - set(data)
    if unknown or missing:
        detail = f"unknown {sorted(unknown)}" if unknown else f"missing {sorted(missing)}"
        raise ConfigurationError(f"{source}: {where!r} has {detail} keys")
    values: dict[str, Any] = {}
    for f in fields(cls):
        value = data[f.name]
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        key = f"{where}.{f.name}"
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = float(value) if ok else value
        else:
            ok = True
        if not ok:
            raise ConfigurationError(f"{source}: {key!r} must be a {kind}, got {value!r}")
        if kind in {"int", "float"} and value < 0:
            raise ConfigurationError(f"{source}: {key!r} must not be negative, got {value!r}")
        values[f.name] = value
    try:
        return cls(**values)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{source}: {exc}") from exc


def _range(value: Any, source: str, where: str, bins: int) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 1 <= value[0] <= value[1] <= bins
    ):
        raise ConfigurationError(f"{source}: {where!r} must be [low, high] within 1..{bins}")
    return int(value[0]), int(value[1])


def _build(data: dict[str, Any], source: str = "policy") -> Policy:
    rfm = data.get("rfm")
    if not isinstance(rfm, dict) or set(rfm) != {"bins", "segments"}:
        raise ConfigurationError(f"{source}: 'rfm' must hold exactly 'bins' and 'segments'")
    bins = rfm["bins"]
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= 10:
        raise ConfigurationError(f"{source}: 'rfm.bins' must be an integer in 2..10")
    segments = []
    for i, seg in enumerate(rfm["segments"]):
        where = f"rfm.segments[{i}]"
        if not isinstance(seg, dict) or set(seg) != {"name", "r", "f", "m"}:
            raise ConfigurationError(f"{source}: {where!r} needs exactly name, r, f, m")
        if not isinstance(seg["name"], str) or not seg["name"]:
            raise ConfigurationError(f"{source}: {where}.name must be a non-empty string")
        segments.append(
            RfmSegmentRule(
                name=seg["name"],
                r=_range(seg["r"], source, f"{where}.r", bins),
                f=_range(seg["f"], source, f"{where}.f", bins),
                m=_range(seg["m"], source, f"{where}.m", bins),
            )
        )
    if not segments:
        raise ConfigurationError(f"{source}: 'rfm.segments' must name at least one segment")
    version = data.get("version")
    if version != 1:
        raise ConfigurationError(f"{source}: unsupported policy version {version!r}")
    extra = set(data) - {
        "version",
        "windows",
        "activity",
        "rungs",
        "categories",
        "rfm",
        "lifetime",
    }
    if extra:
        raise ConfigurationError(f"{source}: unknown policy keys {sorted(extra)}")
    policy = Policy(
        version=version,
        windows=_typed(Windows, data.get("windows"), source, "windows"),
        activity=_typed(ActivityRules, data.get("activity"), source, "activity"),
        rungs=_typed(RungRules, data.get("rungs"), source, "rungs"),
        categories=_typed(CategoryRules, data.get("categories"), source, "categories"),
        rfm=RfmRules(bins=bins, segments=tuple(segments)),
        lifetime=_typed(LifetimeOptions, data.get("lifetime"), source, "lifetime"),
    )
    if policy.windows.trailing_days < 1 or policy.windows.advocacy_days < 1:
        raise ConfigurationError(f"{source}: windows must be at least one day long")
    if not 0.0 <= policy.activity.p_alive_min <= 1.0:
        raise ConfigurationError(f"{source}: 'activity.p_alive_min' must lie in [0, 1]")
    if not 1 <= policy.categories.loyal_min_rung <= 7:
        raise ConfigurationError(f"{source}: 'categories.loyal_min_rung' must lie in 1..7")
    return policy
