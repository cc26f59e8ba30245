"""Languages of the dashboard: Babel catalogues and locale formats of numbers, money, dates.

The catalogues are the ``.po`` files under ``web/locale`` (English is the source language).
They are read with Babel when the application starts, so there is no compiled ``.mo`` to
keep in step; a test checks that every string of the templates is translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
)

__all__ = ["LANGUAGES", "Language", "language"]

#: Language code -> Babel locale used for formats.
LANGUAGES: dict[str, str] = {"en": "en_GB", "hu": "hu_HU", "pl": "pl_PL"}
NAMES = {"en": "English", "hu": "Magyar", "pl": "Polski"}
_CATALOGUES = Path(__file__).parent / "locale"


@cache
def _messages(code: str) -> dict[str, str]:
    path = _CATALOGUES / code / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale=code)
    return {str(m.id): str(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}


@dataclass(frozen=True, slots=True)
class Language:
    """Translation and formats of one language, handed to the templates."""

    code: str
    currency: str

    @property
    def locale(self) -> str:
        return LANGUAGES[self.code]

    def gettext(self, message: str) -> str:
        return _messages(self.code).get(message, message)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, format="#,##0%", locale=self.locale)

    def money_short(self, minor: int | None) -> str:
        """Minor units as short money for headline figures, e.g. ``13 Mrd Ft``, ``HUF13B``."""
        if minor is None:
            return "–"
        return format_compact_currency(
            minor / 100, self.currency, locale=self.locale, fraction_digits=1
        )

    def money(self, minor: int | None) -> str:
        """Minor units as money, e.g. ``1 234 567 Ft`` or ``1 234,50 zł``."""
        if minor is None:
            return "–"
        amount = minor / 100
        if self.currency == "HUF" or float(amount).is_integer():
            pattern = Locale.parse(self.locale).currency_formats["standard"].pattern
            whole = pattern.split(";")[0].replace(".00", "")
            return format_currency(
                round(amount),
                self.currency,
                format=whole,
                locale=self.locale,
                currency_digits=False,
            )
        return format_currency(amount, self.currency, locale=self.locale)

    def date(self, value: date | datetime | str | None) -> str:
        """A date in the locale's medium format; ISO text (``2026-06-30``) is accepted."""
        if value is None or value == "":
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, format="medium", locale=self.locale)


def language(code: str | None, currency: str) -> Language:
    """The language ``code`` (falling back to English) with the business's currency."""
    return Language(code if code in LANGUAGES else "en", currency)
