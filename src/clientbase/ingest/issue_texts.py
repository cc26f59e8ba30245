"""The sentences of every import issue code in English, Hungarian and Polish.

Ingest records each row-level problem as a stable code and its figures (see
:mod:`clientbase.ingest.report`); this module writes them for a person, the way the
rung reasons of :mod:`clientbase.domain.reason_texts` are written: each text is a function
of the figures, so that numbers and plurals follow the language (Polish has three plural
forms, Hungarian none after a numeral). Hungarian sentences avoid putting a number right
after the article ``a``/``az``, whose form would depend on how the number is pronounced.

Codes and their figures:

========================  =================================================================
code                      figures
========================  =================================================================
row_fields                fields (in the row), expected (in the header)
row_unreadable            detail (the CSV reader's own words)
required_missing          –
text_too_long             max_length
int_invalid               –
int_too_small             minimum
int_too_large             maximum
amount_invalid            decimal (``","`` or ``"."``), digits
amount_negative           –
quantity_negative         –
date_invalid              date_only, expected (example values, e.g. ``2024-03-15``)
bool_invalid              –
choice_invalid            choices (list)
email_invalid             –
country_invalid           –
duplicate_key             keys (field names joined by ``+``), first_row
reference_unknown         kind (``customers``, ``orders`` …)
email_duplicate_in_file   first_row (a warning)
email_duplicate_in_store  external_id (a warning)
owner_outside_team        –  (a manager named an owner outside their team)
customer_outside_team     –  (a manager's row touches a customer owned outside their team)
========================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clientbase.domain.reason_texts import LANGUAGES, count_en, count_pl

__all__ = ["CODES", "LANGUAGES", "TEXTS", "render_issue"]

Figures = dict[str, Any]
Text = Callable[[Figures], str]


def _choices(f: Figures) -> str:
    choices = [str(c) for c in f.get("choices", [])]
    listed = ", ".join(choices[:12])
    return listed + (", …" if len(choices) > 12 else "")


_KIND_EN = {
    "customers": "customer",
    "orders": "order",
    "products": "product",
    "campaigns": "campaign",
    "partners": "partner",
    "users": "user (username)",
}
_KIND_HU = {
    "customers": "ügyfél",
    "orders": "rendelés",
    "products": "termék",
    "campaigns": "kampány",
    "partners": "partner",
    "users": "felhasználó (felhasználónév)",
}
_KIND_PL = {
    "customers": "nieznany klient",
    "orders": "nieznane zamówienie",
    "products": "nieznany produkt",
    "campaigns": "nieznana kampania",
    "partners": "nieznany partner",
    "users": "nieznany użytkownik (login)",
}

EN: dict[str, Text] = {
    "row_fields": lambda f: (
        f"{count_en(f['fields'], 'field', 'fields')}, the header has {f['expected']}"
    ),
    "row_unreadable": lambda f: f"the row cannot be read ({f['detail']}); is the file truncated?",
    "required_missing": lambda f: "required value missing",
    "text_too_long": lambda f: (
        f"longer than {count_en(f['max_length'], 'character', 'characters')}"
    ),
    "int_invalid": lambda f: "not a whole number",
    "int_too_small": lambda f: f"less than {f['minimum']}",
    "int_too_large": lambda f: f"more than {f['maximum']}",
    "amount_invalid": lambda f: (
        "not an amount (decimal "
        + ("comma" if f["decimal"] == "," else "point")
        + (
            f", at most {count_en(f['digits'], 'decimal', 'decimals')})"
            if f["digits"]
            else ", no decimals)"
        )
    ),
    "amount_negative": lambda f: "negative amount",
    "quantity_negative": lambda f: (
        'negative quantity (for returns set [format] negative_quantity = "return")'
    ),
    "date_invalid": lambda f: (
        ("not a valid date" if f["date_only"] else "not a valid date or date-time")
        + f" (expected e.g. {f['expected']})"
    ),
    "bool_invalid": lambda f: "not yes/no (use true/false, yes/no, 1/0)",
    "choice_invalid": lambda f: f"not one of: {_choices(f)}",
    "email_invalid": lambda f: "not an e-mail address",
    "country_invalid": lambda f: "not a two-letter country code (e.g. HU, PL)",
    "duplicate_key": lambda f: f"duplicate: the same {f['keys']} as row {f['first_row']}",
    "reference_unknown": lambda f: (
        f"unknown {_KIND_EN.get(f['kind'], f['kind'])}: "
        "not in the store nor among the accepted rows of this file"
    ),
    "email_duplicate_in_file": lambda f: (
        f"possible duplicate: the same e-mail as row {f['first_row']}"
    ),
    "email_duplicate_in_store": lambda f: (
        f"possible duplicate: a customer with external id {f['external_id']} has the same e-mail"
    ),
    "owner_outside_team": lambda f: (
        "the owner is not in your team: name yourself or a member of your team"
    ),
    "customer_outside_team": lambda f: (
        "the customer is owned outside your team: a manager imports only their team's customers"
    ),
}

HU: dict[str, Text] = {
    "row_fields": lambda f: f"a sorban {f['fields']} mező van, a fejlécben viszont {f['expected']}",
    "row_unreadable": lambda f: (
        f"a sor nem olvasható be ({f['detail']}); lehet, hogy csonka a fájl?"
    ),
    "required_missing": lambda f: "hiányzik a kötelező érték",
    "text_too_long": lambda f: f"hosszabb {f['max_length']} karakternél",
    "int_invalid": lambda f: "nem egész szám",
    "int_too_small": lambda f: f"kisebb, mint {f['minimum']}",
    "int_too_large": lambda f: f"nagyobb, mint {f['maximum']}",
    "amount_invalid": lambda f: (
        "nem összeg ("
        + ("tizedesvessző" if f["decimal"] == "," else "tizedespont")
        + (f", legfeljebb {f['digits']} tizedesjegy)" if f["digits"] else ", tizedesjegyek nélkül)")
    ),
    "amount_negative": lambda f: "negatív összeg",
    "quantity_negative": lambda f: (
        'negatív mennyiség (visszárukhoz állítsa be: [format] negative_quantity = "return")'
    ),
    "date_invalid": lambda f: (
        ("nem érvényes dátum" if f["date_only"] else "nem érvényes dátum vagy időpont")
        + f" (várt formátum, pl. {f['expected']})"
    ),
    "bool_invalid": lambda f: "nem igen/nem érték (használható: igen/nem, true/false, 1/0)",
    "choice_invalid": lambda f: f"nem a megengedett értékek egyike: {_choices(f)}",
    "email_invalid": lambda f: "nem e-mail-cím",
    "country_invalid": lambda f: "nem kétbetűs országkód (pl. HU, PL)",
    "duplicate_key": lambda f: (
        f"ismétlődés: ugyanaz a kulcs ({f['keys']}), mint a fájl {f['first_row']}. sorában"
    ),
    "reference_unknown": lambda f: (
        f"ismeretlen {_KIND_HU.get(f['kind'], f['kind'])}: "
        "nincs sem az adatbázisban, sem a fájl elfogadott sorai között"
    ),
    "email_duplicate_in_file": lambda f: (
        f"lehetséges ismétlődés: ugyanaz az e-mail-cím, mint a fájl {f['first_row']}. sorában"
    ),
    "email_duplicate_in_store": lambda f: (
        "lehetséges ismétlődés: ugyanez az e-mail-cím egy meglévő ügyfélé "
        f"(külső azonosító: {f['external_id']})"
    ),
    "owner_outside_team": lambda f: (
        "a tulajdonos nem tartozik a csapatához: saját magát vagy egy csapattagot adjon meg"
    ),
    "customer_outside_team": lambda f: (
        "az ügyfél a csapatán kívüli munkatársé: vezetőként csak a csapata ügyfeleit importálhatja"
    ),
}

PL: dict[str, Text] = {
    "row_fields": lambda f: (
        f"wiersz ma {count_pl(f['fields'], 'pole', 'pola', 'pól')}, "
        f"a nagłówek {count_pl(f['expected'], 'pole', 'pola', 'pól')}"
    ),
    "row_unreadable": lambda f: (
        f"nie można odczytać wiersza ({f['detail']}); czy plik nie jest ucięty?"
    ),
    "required_missing": lambda f: "brak wymaganej wartości",
    "text_too_long": lambda f: (
        f"dłuższy niż {count_pl(f['max_length'], 'znak', 'znaki', 'znaków')}"
    ),
    "int_invalid": lambda f: "to nie jest liczba całkowita",
    "int_too_small": lambda f: f"mniej niż {f['minimum']}",
    "int_too_large": lambda f: f"więcej niż {f['maximum']}",
    "amount_invalid": lambda f: (
        "to nie jest kwota ("
        + ("przecinek dziesiętny" if f["decimal"] == "," else "kropka dziesiętna")
        + (
            ", najwyżej "
            + count_pl(
                f["digits"], "miejsce dziesiętne", "miejsca dziesiętne", "miejsc dziesiętnych"
            )
            + ")"
            if f["digits"]
            else ", bez miejsc dziesiętnych)"
        )
    ),
    "amount_negative": lambda f: "ujemna kwota",
    "quantity_negative": lambda f: (
        'ujemna ilość (dla zwrotów ustaw [format] negative_quantity = "return")'
    ),
    "date_invalid": lambda f: (
        ("nieprawidłowa data" if f["date_only"] else "nieprawidłowa data lub data z godziną")
        + f" (oczekiwany format, np. {f['expected']})"
    ),
    "bool_invalid": lambda f: "to nie jest tak/nie (użyj: tak/nie, true/false, 1/0)",
    "choice_invalid": lambda f: f"to nie jest żadna z dozwolonych wartości: {_choices(f)}",
    "email_invalid": lambda f: "to nie jest adres e-mail",
    "country_invalid": lambda f: "to nie jest dwuliterowy kod kraju (np. PL, HU)",
    "duplicate_key": lambda f: (
        f"duplikat: ta sama wartość {f['keys']} co w wierszu {f['first_row']}"
    ),
    "reference_unknown": lambda f: (
        f"{_KIND_PL.get(f['kind'], f['kind'])}: "
        "brak w bazie i wśród zaakceptowanych wierszy tego pliku"
    ),
    "email_duplicate_in_file": lambda f: (
        f"możliwy duplikat: ten sam adres e-mail co w wierszu {f['first_row']}"
    ),
    "email_duplicate_in_store": lambda f: (
        f"możliwy duplikat: klient o identyfikatorze zewnętrznym {f['external_id']} "
        "ma ten sam adres e-mail"
    ),
    "owner_outside_team": lambda f: (
        "właściciel nie należy do Twojego zespołu: wskaż siebie lub członka zespołu"
    ),
    "customer_outside_team": lambda f: (
        "klient należy do osoby spoza Twojego zespołu: kierownik importuje tylko klientów "
        "swojego zespołu"
    ),
}

TEXTS: dict[str, dict[str, Text]] = {"en": EN, "hu": HU, "pl": PL}
#: Every issue code.
CODES: frozenset[str] = frozenset(EN)


def render_issue(code: str, figures: Figures, language: str = "en") -> str:
    """The issue ``code`` with its ``figures`` as a phrase in ``language`` (en, hu or pl).

    Raises
    ------
    ValueError
        No texts in ``language``.
    KeyError
        ``code`` is not an issue code.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no import texts in {language!r}; choose one of {LANGUAGES}")
    return TEXTS[language][code](figures)
