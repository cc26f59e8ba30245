"""Every import issue code is written in English, Hungarian and Polish."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from clientbase.ingest.issue_texts import CODES, LANGUAGES, TEXTS, render_issue
from clientbase.ingest.report import figures_json, issues_frame, with_reasons

#: Figures that every code's text can be written with.
SAMPLE: dict[str, dict[str, Any]] = {
    "row_fields": {"fields": 2, "expected": 3},
    "row_unreadable": {"detail": "unexpected end of data"},
    "text_too_long": {"max_length": 120},
    "int_too_small": {"minimum": 1900},
    "int_too_large": {"maximum": 2100},
    "amount_invalid": {"decimal": ",", "digits": 2},
    "date_invalid": {"date_only": True, "expected": "2024-03-15, 2024.03.15."},
    "choice_invalid": {"choices": ["person", "company"]},
    "duplicate_key": {"keys": "external_id", "first_row": 2},
    "reference_unknown": {"kind": "customers"},
    "email_duplicate_in_file": {"first_row": 4},
    "email_duplicate_in_store": {"external_id": "C7"},
}


def test_every_language_has_a_text_for_every_code() -> None:
    for language in LANGUAGES:
        assert set(TEXTS[language]) == CODES


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_renders(code: str, language: str) -> None:
    text = render_issue(code, SAMPLE.get(code, {}), language)
    assert text and "{" not in text
    for value in SAMPLE.get(code, {}).values():
        if isinstance(value, int | str) and not isinstance(value, bool):
            if code in {"amount_invalid", "reference_unknown"}:
                continue  # written as words (a decimal comma, an unknown customer)
            assert str(value) in text


def test_sentences_differ_between_languages() -> None:
    for code in CODES:
        figures = SAMPLE.get(code, {})
        texts = {render_issue(code, figures, language) for language in LANGUAGES}
        assert len(texts) == len(LANGUAGES), code


def test_plurals_follow_each_language() -> None:
    assert render_issue("row_fields", {"fields": 1, "expected": 3}) == ("1 field, the header has 3")
    assert render_issue("row_fields", {"fields": 2, "expected": 5}, "pl") == (
        "wiersz ma 2 pola, a nagłówek 5 pól"
    )
    assert render_issue("row_fields", {"fields": 1, "expected": 22}, "pl") == (
        "wiersz ma 1 pole, a nagłówek 22 pola"
    )
    assert render_issue("text_too_long", {"max_length": 12}, "pl") == "dłuższy niż 12 znaków"
    assert render_issue("text_too_long", {"max_length": 40}, "hu") == "hosszabb 40 karakternél"
    assert render_issue("amount_invalid", {"decimal": ",", "digits": 0}, "hu") == (
        "nem összeg (tizedesvessző, tizedesjegyek nélkül)"
    )
    assert render_issue("amount_invalid", {"decimal": ".", "digits": 2}, "pl") == (
        "to nie jest kwota (kropka dziesiętna, najwyżej 2 miejsca dziesiętne)"
    )


def test_reference_kinds_take_their_grammatical_gender_in_polish() -> None:
    assert render_issue("reference_unknown", {"kind": "campaigns"}, "pl").startswith(
        "nieznana kampania"
    )
    assert render_issue("reference_unknown", {"kind": "orders"}, "pl").startswith(
        "nieznane zamówienie"
    )
    assert render_issue("reference_unknown", {"kind": "orders"}, "hu").startswith(
        "ismeretlen rendelés"
    )


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        render_issue("int_invalid", {}, "de")


def test_with_reasons_writes_each_distinct_issue_once_and_keeps_the_order() -> None:
    frame = issues_frame(
        [5, 2, 9],
        ["a", "b", "a"],
        ["x", None, "y"],
        ["int_invalid", "required_missing", "int_invalid"],
        [figures_json(), figures_json(), figures_json()],
    )
    hu = with_reasons(frame, "hu")
    assert hu.get_column("row").to_list() == [5, 2, 9]
    assert hu.get_column("reason").to_list() == [
        "nem egész szám",
        "hiányzik a kötelező érték",
        "nem egész szám",
    ]
    assert with_reasons(issues_frame(), "pl").columns[-1] == "reason"
    assert with_reasons(frame.head(0), "pl").schema["reason"] == pl.String
