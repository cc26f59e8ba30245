"""Every string of the dashboard is translated, and money and numbers use locale formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clientbase.domain.vocabulary import (
    AcquisitionChannel,
    CustomerKind,
    EventKind,
    OrderStatus,
    Role,
)
from clientbase.web.analysis_pages import LISTS
from clientbase.web.charts import COST_LINE_NAMES, RUNG_NAMES
from clientbase.web.i18n import _messages, language
from clientbase.web.import_pages import KIND_NAMES

WEB = Path(__file__).resolve().parents[3] / "src" / "clientbase" / "web"
#: Statuses of complaints, claims (resolved, open, rejected) and referrals (converted or not).
EVENT_STATUSES = ("resolved", "open", "rejected", "converted", "not_converted")
_CALL = re.compile(r"""_\((?:"([^"]+)"|'([^']+)')\)""")


def _source_strings() -> set[str]:
    found: set[str] = set()
    for path in [
        *WEB.glob("templates/*.html"),
        WEB / "charts.py",
        WEB / "admin_pages.py",
        WEB / "import_pages.py",
    ]:
        found |= {a or b for a, b in _CALL.findall(path.read_text(encoding="utf-8"))}
    found |= set(RUNG_NAMES.values()) | set(COST_LINE_NAMES.values())
    found |= {text for _, title, note in LISTS.values() for text in (title, note)}
    found |= {c.title() for c in ("loyal", "average", "demanding", "lost")}
    found |= {c.value.replace("_", " ").capitalize() for c in AcquisitionChannel}
    found |= {k.value.replace("_", " ").capitalize() for k in EventKind} | {"Order"}
    found |= {r.value.title() for r in Role}
    found |= set(KIND_NAMES.values())
    # Customer kinds and timeline statuses (orders; complaints, claims and referrals).
    statuses = [*OrderStatus, *EVENT_STATUSES]
    found |= {str(v).replace("_", " ").capitalize() for v in (*CustomerKind, *statuses)}
    return found


@pytest.mark.parametrize("code", ["hu", "pl"])
def test_every_string_is_translated(code: str) -> None:
    strings = _source_strings()
    assert len(strings) > 100
    missing = sorted(strings - set(_messages(code)))
    assert missing == []


def test_locale_formats_of_money_and_numbers() -> None:
    nbsp = "\u00a0"
    assert language("hu", "HUF").money(123_456_700) == f"1{nbsp}234{nbsp}567{nbsp}Ft"
    assert language("pl", "PLN").money(123_450) == f"1{nbsp}234,50{nbsp}zł"
    assert language("en", "EUR").number(1234567) == "1,234,567"
    assert language("xx", "EUR").code == "en"


def test_headline_money_is_short_in_each_language() -> None:
    nbsp = "\u00a0"
    assert language("hu", "HUF").money_short(1_297_154_973_000) == f"13{nbsp}Mrd{nbsp}Ft"
    assert language("pl", "PLN").money_short(478_466_968_300) == f"4,8{nbsp}mld{nbsp}zł"
    # British English writes millions as "m" since CLDR 48 (Babel 2.19), "M" before.
    assert re.fullmatch(r"-HUF277\.8[mM]", language("en", "HUF").money_short(-27_775_840_300))
    assert language("en", "HUF").money_short(None) == "–"


def test_dates_in_locale_formats() -> None:
    assert language("en", "EUR").date("2026-06-30") == "30 Jun 2026"
    assert language("hu", "HUF").date("2026-06-30") == "2026. jún. 30."
    assert language("pl", "PLN").date("2026-06-30") == "30 cze 2026"
    assert language("pl", "PLN").date(None) == "–"
