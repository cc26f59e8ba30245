"""Names, contact data, demographics and psychographics of the planted customers.

Built column-wise with polars string expressions, so a million customers take seconds.
"""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import polars as pl
from numpy.typing import NDArray

from clientbase.demo.population import Population
from clientbase.demo.vocab import COUNTRIES, SEGMENTS

__all__ = ["people_columns"]

_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ő": "o", "ű": "u"})


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum()).lower()


def _pick(values: list[str], index: NDArray[np.int64]) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(index)


def people_columns(pop: Population, rng: np.random.Generator) -> dict[str, pl.Series]:
    """Identity, contact, demographic and psychographic columns for every customer."""
    n = pop.n
    ids = np.arange(1, n + 1)
    first_all: list[str] = []
    last_all: list[str] = []
    first_idx = np.zeros(n, dtype=np.int64)
    last_idx = np.zeros(n, dtype=np.int64)
    city_idx = np.zeros(n, dtype=np.int64)
    street_all: list[str] = []
    street_idx = np.zeros(n, dtype=np.int64)
    cities: list[tuple[str, str, str, bool]] = []
    domain = _pick([c.domain for c in COUNTRIES], pop.country)
    prefix = _pick([c.phone_prefix for c in COUNTRIES], pop.country)
    suffix = _pick([c.company_suffix for c in COUNTRIES], pop.country)
    for ci, c in enumerate(COUNTRIES):
        m = pop.country == ci
        k = int(m.sum())
        names = np.where(pop.gender[m] == 0, 0, 1)
        f_off, fem, mal = len(first_all), len(c.first_female), len(c.first_male)
        first_all += [*c.first_female, *c.first_male]
        pick = np.where(names == 0, rng.integers(0, fem, k), fem + rng.integers(0, mal, k))
        first_idx[m] = f_off + pick
        l_off = len(last_all)
        last_all += list(c.last_names)
        last_idx[m] = l_off + rng.integers(0, len(c.last_names), k)
        city_idx[m] = len(cities) + pop.city[m]
        cities += list(c.cities)
        s_off = len(street_all)
        street_all += list(c.streets)
        street_idx[m] = s_off + rng.integers(0, len(c.streets), k)
    first = _pick(first_all, first_idx)
    last = _pick(last_all, last_idx)
    first_a = _pick([_ascii(x) for x in first_all], first_idx)
    last_a = _pick([_ascii(x) for x in last_all], last_idx)
    seg = pop.segment
    industry_all = [i for s in SEGMENTS for i in (s.industries or ("",))]
    ind_off = np.cumsum([0] + [len(s.industries or ("",)) for s in SEGMENTS])[:-1]
    ind_len = np.array([len(s.industries or ("",)) for s in SEGMENTS])
    ind_idx = ind_off[seg] + np.floor(rng.random(n) * ind_len[seg]).astype(np.int64)
    industry = _pick(industry_all, ind_idx)
    id_s = pl.Series(ids).cast(pl.String)
    company = pl.Series(pop.company)
    frame = pl.DataFrame(
        {
            "first": first,
            "last": last,
            "fa": first_a,
            "la": last_a,
            "id": id_s,
            "company": company,
            "industry": industry,
            "domain": domain,
            "prefix": prefix,
            "suffix": suffix,
            "street": _pick(street_all, street_idx),
            "num": pl.Series(rng.integers(1, 120, n)).cast(pl.String),
            "tel": pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3),
            "pc": pl.Series(rng.integers(10, 99, n)).cast(pl.String),
            "stem": _pick([c[2] for c in cities], city_idx),
            "city": _pick([c[0] for c in cities], city_idx),
            "region": _pick([c[1] for c in cities], city_idx),
        }
    )
    out = frame.select(
        name=pl.when(pl.col("company"))
        .then(
            pl.concat_str(
                [pl.col("last"), pl.col("industry").str.to_titlecase(), pl.col("suffix")],
                separator=" ",
            )
        )
        .otherwise(pl.concat_str([pl.col("first"), pl.col("last")], separator=" ")),
        email=pl.when(pl.col("company"))
        .then(
            pl.concat_str(
                [
                    pl.lit("office."),
                    pl.col("la"),
                    pl.lit("."),
                    pl.col("id"),
                    pl.lit("@"),
                    pl.col("domain"),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.col("fa"),
                    pl.lit("."),
                    pl.col("la"),
                    pl.lit("."),
                    pl.col("id"),
                    pl.lit("@"),
                    pl.col("domain"),
                ]
            )
        ),
        phone=pl.concat_str([pl.col("prefix"), pl.lit(" "), pl.col("tel")]),
        address=pl.concat_str(
            [
                pl.col("street"),
                pl.lit(" "),
                pl.col("num"),
                pl.lit(", "),
                pl.col("stem"),
                pl.col("pc"),
                pl.lit(" "),
                pl.col("city"),
            ]
        ),
        postcode=pl.concat_str([pl.col("stem"), pl.col("pc")]),
        city=pl.col("city"),
        region=pl.col("region"),
        industry=pl.when(pl.col("company")).then(pl.col("industry")),
    )
    cols = {c: out[c] for c in out.columns}
    person = ~pop.company
    lo = np.array([s.birth_years[0] for s in SEGMENTS])[seg]
    hi = np.array([s.birth_years[1] for s in SEGMENTS])[seg]
    birth = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    cols["birth_year"] = pl.Series(np.where(person, birth, 0)).replace(0, None)
    cols["gender"] = pl.Series(
        np.array(["female", "male", ""], dtype=object)[pop.gender], dtype=pl.String
    ).replace("", None)
    cols["income_band"] = _choice_col(rng, seg, [s.incomes for s in SEGMENTS])
    cols["occupation"] = _choice_col(rng, seg, [s.occupations for s in SEGMENTS])
    cols["company_size"] = _choice_col(rng, seg, [s.sizes for s in SEGMENTS])
    cols["country"] = _pick([c.code for c in COUNTRIES], pop.country)
    for field in ("interests", "lifestyle", "attitudes", "values"):
        variants = []
        for s in SEGMENTS:
            tags = list(getattr(s, field))
            variants.append([json.dumps(tags), json.dumps(tags[:1]), json.dumps(tags[-1:])])
        flat = [v for vs in variants for v in vs]
        pick = seg * 3 + rng.integers(0, 3, n)
        cols[field] = _pick(flat, pick).replace("[]", None)
    return cols


def _choice_col(
    rng: np.random.Generator, seg: NDArray[np.int64], options: list[tuple[str, ...]]
) -> pl.Series:
    flat = [o for opts in options for o in (opts or ("",))]
    off = np.cumsum([0] + [len(o or ("",)) for o in options])[:-1]
    ln = np.array([len(o or ("",)) for o in options])
    idx = off[seg] + np.floor(rng.random(len(seg)) * ln[seg]).astype(np.int64)
    return _pick(flat, idx).replace("", None)
