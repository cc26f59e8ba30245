"""Number and time locales of the charts, as vega's ``formatLocale`` / ``timeFormatLocale``.

The definitions (d3-format and d3-time-format objects) are built from Babel's CLDR data, the
same data that formats the figures in the tables, so a chart's axis writes ``1 234 567`` in
Hungarian and ``1 234,5`` in Polish exactly as the page around it does. Nothing is fetched
from a CDN: the page embeds the object and ``app.js`` hands it to vega-embed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import Locale

__all__ = ["vega_locale"]

#: d3's date, time and date-time patterns per language (CLDR's short patterns, in strftime).
_PATTERNS: dict[str, tuple[str, str, str]] = {
    "en": ("%d/%m/%Y", "%H:%M:%S", "%a %e %b %Y %X"),
    "hu": ("%Y. %m. %d.", "%H:%M:%S", "%Y. %B %e., %A %X"),
    "pl": ("%d.%m.%Y", "%H:%M:%S", "%A, %e %B %Y, %X"),
}


def _weekdays(names: Any) -> list[str]:
    """Babel numbers weekdays from Monday (0); d3 lists them from Sunday."""
    return [str(names[(i + 6) % 7]) for i in range(7)]


@cache
def vega_locale(code: str, babel_locale: str, currency: str) -> dict[str, Any]:
    """``{"number": <d3-format locale>, "time": <d3-time-format locale>}`` of a language."""
    locale = Locale.parse(babel_locale)
    symbols = locale.number_symbols["latn"]
    symbol = locale.currency_symbols.get(currency, currency)
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    before = pattern.index("¤") < pattern.index("#") if "¤" in pattern else False
    spaced = "\u00a0¤" in pattern or "¤\u00a0" in pattern
    gap = "\u00a0" if spaced else ""
    number = {
        "decimal": symbols["decimal"],
        "thousands": symbols["group"],
        "grouping": [3],
        "currency": [symbol + gap, ""] if before else ["", gap + symbol],
        "percent": symbols["percentSign"],
        "minus": "\u2212",
    }
    date, time, date_time = _PATTERNS[code]
    time_locale = {
        "dateTime": date_time,
        "date": date,
        "time": time,
        "periods": [str(locale.periods.get(p, p.upper())) for p in ("am", "pm")],
        "days": _weekdays(locale.days["format"]["wide"]),
        "shortDays": _weekdays(locale.days["format"]["abbreviated"]),
        "months": [str(locale.months["stand-alone"]["wide"][m]) for m in range(1, 13)],
        "shortMonths": [str(locale.months["stand-alone"]["abbreviated"][m]) for m in range(1, 13)],
    }
    return {"number": number, "time": time_locale}
