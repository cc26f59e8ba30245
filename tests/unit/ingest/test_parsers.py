"""Vectorised parsers: money in many notations, dates, yes/no, choices."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from clientbase.ingest.mapping import NumberFormat
from clientbase.ingest.parsers import (
    parse_bool,
    parse_choice,
    parse_country,
    parse_datetime,
    parse_email,
    parse_int,
    parse_money,
)


@pytest.mark.parametrize(
    ("text", "decimal", "minor"),
    [
        ("12990", ".", 1_299_000),
        ("12 990 Ft", ".", 1_299_000),
        ("12\u00a0990 HUF", ",", 1_299_000),
        ("1 234,50 zł", ",", 123_450),
        ("1.234.567,8", ",", 123_456_780),
        ("€12.50", ".", 1_250),
        ("1,234.50 EUR", ".", 123_450),
        ("-3,5", ",", -350),
        ("\u22124.10", ".", -410),
        ("12990.0", ".", 1_299_000),
    ],
)
def test_money_notations(text: str, decimal: str, minor: int) -> None:
    parsed = parse_money(pl.Series("x", [text]), NumberFormat(decimal=decimal), typed=False)
    assert parsed.values.to_list() == [minor]
    assert not parsed.bad.any()


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("12,5", "."), ("1.23", ","), ("abc", "."), ("12.505", "."), ("12e3", "."), ("1,23,4", ".")],
)
def test_money_that_cannot_be_read_exactly_is_bad(text: str, decimal: str) -> None:
    parsed = parse_money(pl.Series("x", [text]), NumberFormat(decimal=decimal), typed=False)
    assert parsed.bad.to_list() == [True]
    assert parsed.values.to_list() == [None]


def test_money_missing_is_not_bad() -> None:
    parsed = parse_money(pl.Series("x", [None], dtype=pl.String), NumberFormat(), typed=False)
    assert parsed.bad.to_list() == [False]


def test_typed_columns_always_use_a_decimal_point() -> None:
    parsed = parse_money(pl.Series("x", ["12.5"]), NumberFormat(decimal=","), typed=True)
    assert parsed.values.to_list() == [1250]


def test_zero_minor_digits() -> None:
    parsed = parse_money(
        pl.Series("x", ["12 990", "5.5"]), NumberFormat(minor_digits=0), typed=False
    )
    assert parsed.values.to_list() == [12990, None]


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-03-15", "ymd", dt.datetime(2024, 3, 15)),
        ("2024.03.15.", "ymd", dt.datetime(2024, 3, 15)),
        ("2024. 03. 15.", "dmy", dt.datetime(2024, 3, 15)),
        ("2024.03.15. 14:05", "ymd", dt.datetime(2024, 3, 15, 14, 5)),
        ("2024-03-15T14:05:06.5Z", "ymd", dt.datetime(2024, 3, 15, 14, 5, 6, 500_000)),
        ("15.03.2024", "dmy", dt.datetime(2024, 3, 15)),
        ("03/04/2024", "dmy", dt.datetime(2024, 4, 3)),
        ("03/04/2024", "mdy", dt.datetime(2024, 3, 4)),
        ("2024-02-29", "ymd", dt.datetime(2024, 2, 29)),
    ],
)
def test_dates(text: str, order: str, expected: dt.datetime) -> None:
    parsed = parse_datetime(pl.Series("d", [text]), NumberFormat(date_order=order))
    assert parsed.values.to_list() == [expected]


def test_seconds_with_and_without_fractions_in_one_column() -> None:
    texts = ["2024-03-15 14:05:06", "2024-03-15 14:05:06.25", "2024-03-15 14:05:61", None]
    parsed = parse_datetime(pl.Series("d", texts), NumberFormat())
    assert parsed.values.to_list() == [
        dt.datetime(2024, 3, 15, 14, 5, 6),
        dt.datetime(2024, 3, 15, 14, 5, 6, 250_000),
        None,
        None,
    ]
    assert parsed.bad.to_list() == [False, False, True, False]


@pytest.mark.parametrize(
    "text", ["2024-02-30", "2023-02-29", "2024-13-01", "15.03.2024", "0024-03-15", "soon"]
)
def test_impossible_or_ambiguous_dates_are_bad(text: str) -> None:
    parsed = parse_datetime(pl.Series("d", [text]), NumberFormat())
    assert parsed.bad.to_list() == [True]


def test_date_only_and_explicit_format() -> None:
    fmt = NumberFormat(date_formats=("%d %m %Y",))
    parsed = parse_datetime(pl.Series("d", ["15 03 2024"]), fmt, date_only=True)
    assert parsed.values.to_list() == [dt.date(2024, 3, 15)]


def test_excel_serial_dates() -> None:
    parsed = parse_datetime(pl.Series("d", ["45366.5"]), NumberFormat(), excel=True)
    assert parsed.values.to_list() == [dt.datetime(2024, 3, 15, 12, 0)]


def test_int() -> None:
    parsed = parse_int(pl.Series("i", ["3", "3.0", "-2", "1 000", "2.5", "x"]))
    assert parsed.values.to_list() == [3, 3, -2, 1000, None, None]
    assert parsed.bad.to_list() == [False, False, False, False, True, True]


def test_bool_in_several_languages() -> None:
    parsed = parse_bool(
        pl.Series("b", ["igen", "Nem", "TAK", "nie", "1", "0", "maybe"]), NumberFormat()
    )
    assert parsed.values.to_list() == [True, False, True, False, True, False, None]
    assert parsed.bad.to_list() == [False] * 6 + [True]


def test_choice_ignores_case_spaces_and_hyphens() -> None:
    choices = ("targeted_ads", "organic")
    parsed = parse_choice(
        pl.Series("c", ["Targeted ads", "ORGANIC", "targeted-ads", "tv"]), choices
    )
    assert parsed.values.to_list() == ["targeted_ads", "organic", "targeted_ads", None]
    assert parsed.bad.to_list() == [False, False, False, True]
    assert parsed.code == "choice_invalid"
    assert parsed.figures == {"choices": ["targeted_ads", "organic"]}


def test_email_and_country() -> None:
    assert parse_email(pl.Series("e", ["a@b.hu", "nope"]), 320).bad.to_list() == [False, True]
    country = parse_country(pl.Series("c", ["hu", "POL"]))
    assert country.values.to_list() == ["HU", None]


def test_a_bad_date_names_the_shapes_the_column_is_read_in() -> None:
    from clientbase.ingest.parsers import parse_datetime

    raw = pl.Series("d", ["2024-02-30"])
    day_first = parse_datetime(raw, NumberFormat(date_order="dmy"), date_only=True)
    assert day_first.code == "date_invalid"
    assert day_first.figures == {
        "date_only": True,
        "expected": "2024-03-15, 2024.03.15., 15.03.2024",
    }
    timed = parse_datetime(raw, NumberFormat())
    assert timed.figures["expected"] == "2024-03-15, 2024-03-15 14:30, 2024.03.15."
