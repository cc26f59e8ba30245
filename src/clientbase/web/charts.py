"""Vega-Lite specs of the dashboard's charts, built with Altair from service figures.

Specs are plain dictionaries rendered in the page by the vendored vega-embed (Altair's own
HTML output would load scripts from a CDN). Every label goes through the page's language.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from clientbase.services.overview import Overview
from clientbase.web.i18n import Language

__all__ = [
    "COST_LINE_NAMES",
    "RUNG_NAMES",
    "category_chart",
    "channel_chart",
    "climb_chart",
    "conversion_chart",
    "driver_chart",
    "ladder_chart",
    "rfm_chart",
    "whale_chart",
]

RUNG_NAMES = {
    1: "Suspect",
    2: "Prospect",
    3: "First-time buyer",
    4: "Client",
    5: "Member",
    6: "Advocate",
    7: "Partner",
}

#: Names of the statement's cost lines (``domain.profitability.COST_LINES`` and the margin).
COST_LINE_NAMES = {
    "gross_margin_minor": "Sold below cost",
    "returns_minor": "Returns and refunds",
    "bonuses_minor": "Bonuses and credits",
    "complaint_cost_minor": "Complaints and claims",
    "service_cost_minor": "Service contacts",
    "acquisition_cost_minor": "Acquisition cost",
}

_WIDTH = "container"
#: Axis formats; the page's vega locale writes the separators and symbols of the language.
_COUNT = ",d"
_MONEY = ",.0f"
_SHARE = ".0%"


def _data(rows: list[dict[str, Any]]) -> Any:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _spec(chart: alt.Chart) -> dict[str, Any]:
    spec: dict[str, Any] = chart.properties(width=_WIDTH, height=260).to_dict()
    spec.pop("$schema", None)
    return spec


def ladder_chart(data: Overview, lang: Language) -> dict[str, Any]:
    _ = lang.gettext
    rows = [
        {"rung": f"{r}. {_(RUNG_NAMES[r])}", "order": r, "customers": data.ladder.get(r, 0)}
        for r in range(1, 8)
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#1f5f8b")
        .encode(
            y=alt.Y("rung:N", sort=alt.EncodingSortField("order"), title=_("Rung")),
            x=alt.X("customers:Q", title=_("Customers"), axis=alt.Axis(format=_COUNT)),
            tooltip=[
                alt.Tooltip("rung:N", title=_("Rung")),
                alt.Tooltip("customers:Q", title=_("Customers"), format=_COUNT),
            ],
        )
    )
    return _spec(chart)


def category_chart(data: Overview, lang: Language) -> dict[str, Any]:
    _ = lang.gettext
    rows = [
        {
            "category": _(c.category.title()),
            _("Profit"): c.net_contribution_minor / 100,
            _("Revenue"): c.revenue_minor / 100,
        }
        for c in data.categories
    ]
    chart = (
        alt.Chart(_data(rows))
        .transform_fold([_("Revenue"), _("Profit")], as_=["measure", "value"])
        .mark_bar()
        .encode(
            x=alt.X("category:N", title=_("Category")),
            xOffset="measure:N",
            y=alt.Y(
                "value:Q",
                title=f"{_('Revenue and profit')} ({lang.currency})",
                axis=alt.Axis(format=_MONEY),
            ),
            color=alt.Color(
                "measure:N", title=_("Measure"), scale=alt.Scale(range=["#1f5f8b", "#b35900"])
            ),
        )
    )
    return _spec(chart)


def channel_chart(data: Overview, lang: Language) -> dict[str, Any]:
    _ = lang.gettext
    rows = [
        {
            "channel": _(c.channel.replace("_", " ").capitalize()),
            "customers": c.customers,
            "profit": c.net_contribution_minor / 100,
        }
        for c in data.channels
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#2d7a4b")
        .encode(
            x=alt.X("channel:N", title=_("Channel")),
            y=alt.Y(
                "profit:Q", title=f"{_('Profit')} ({lang.currency})", axis=alt.Axis(format=_MONEY)
            ),
            tooltip=[alt.Tooltip("customers:Q", title=_("Customers"), format=_COUNT)],
        )
    )
    return _spec(chart)


def whale_chart(data: Overview, lang: Language) -> dict[str, Any]:
    _ = lang.gettext
    rows = [
        {"share": p.customer_share, "profit": p.cumulative_profit_minor / 100} for p in data.whale
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_line(color="#1f5f8b")
        .encode(
            x=alt.X(
                "share:Q",
                title=_("Share of customers, most profitable first"),
                axis=alt.Axis(format=_SHARE),
            ),
            y=alt.Y(
                "profit:Q",
                title=f"{_('Cumulative profit')} ({lang.currency})",
                axis=alt.Axis(format=_MONEY),
            ),
        )
    )
    return _spec(chart)


def rfm_chart(data: Overview, lang: Language) -> dict[str, Any]:
    _ = lang.gettext
    rows = [{"recency": r, "frequency": f, "customers": n} for r, f, n in data.rfm]
    chart = (
        alt.Chart(_data(rows))
        .mark_rect()
        .encode(
            x=alt.X("recency:O", title=_("Recency score")),
            y=alt.Y("frequency:O", title=_("Frequency score"), sort="descending"),
            color=alt.Color("customers:Q", title=_("Customers"), scale=alt.Scale(scheme="blues")),
            tooltip=[alt.Tooltip("customers:Q", title=_("Customers"))],
        )
    )
    return _spec(chart)


def _rung_label(rung: int, lang: Language) -> str:
    return f"{rung}. {lang.gettext(RUNG_NAMES.get(rung, str(rung)))}"


def conversion_chart(conversion: list[dict[str, Any]], lang: Language) -> dict[str, Any]:
    """Share of the customers who entered a rung and climbed higher within the window."""
    _ = lang.gettext
    rows = [
        {
            "rung": _rung_label(int(r["rung"]), lang),
            "order": int(r["rung"]),
            "conversion": r["conversion"],
            "judged": r["judged"],
        }
        for r in conversion
        if r["conversion"] is not None and int(r["rung"]) < 7
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#2d7a4b")
        .encode(
            x=alt.X("rung:N", sort=alt.EncodingSortField("order"), title=_("Rung")),
            y=alt.Y(
                "conversion:Q", title=_("Climbed within the window"), axis=alt.Axis(format=_SHARE)
            ),
            tooltip=[
                alt.Tooltip("conversion:Q", title=_("Conversion"), format=_SHARE),
                alt.Tooltip("judged:Q", title=_("Customers judged"), format=_COUNT),
            ],
        )
    )
    return _spec(chart)


def climb_chart(conversion: list[dict[str, Any]], lang: Language) -> dict[str, Any]:
    """Median days from entering a rung to the first run that shows the customer higher."""
    _ = lang.gettext
    rows = [
        {
            "rung": _rung_label(int(r["rung"]), lang),
            "order": int(r["rung"]),
            "days": r["median_days_to_climb"],
        }
        for r in conversion
        if r["median_days_to_climb"] is not None
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#1f5f8b")
        .encode(
            x=alt.X("rung:N", sort=alt.EncodingSortField("order"), title=_("Rung")),
            y=alt.Y("days:Q", title=_("Median days to climb"), axis=alt.Axis(format=_COUNT)),
            tooltip=[alt.Tooltip("days:Q", title=_("Median days to climb"), format=",.0f")],
        )
    )
    return _spec(chart)


def driver_chart(loss_makers: list[dict[str, Any]], lang: Language) -> dict[str, Any]:
    """What sinks the loss-makers: each cost line summed over them, largest first."""
    _ = lang.gettext
    totals: dict[str, int] = {}
    for row in loss_makers:
        for line in COST_LINE_NAMES:
            if line == "gross_margin_minor":
                amount = -min(0, int(row.get(line) or 0))
            else:
                amount = int(row.get(line) or 0)
            totals[line] = totals.get(line, 0) + amount
    rows = [
        {"line": _(COST_LINE_NAMES[line]), "amount": amount / 100}
        for line, amount in totals.items()
        if amount > 0
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#b35900")
        .encode(
            y=alt.Y("line:N", sort="-x", title=_("Cost line")),
            x=alt.X(
                "amount:Q", title=f"{_('Amount')} ({lang.currency})", axis=alt.Axis(format=_MONEY)
            ),
            tooltip=[alt.Tooltip("amount:Q", title=_("Amount"), format=_MONEY)],
        )
    )
    return _spec(chart)
