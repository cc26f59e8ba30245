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
    "RUNG_NAMES",
    "category_chart",
    "channel_chart",
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

_WIDTH = "container"


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
            x=alt.X("customers:Q", title=_("Customers")),
            tooltip=[
                alt.Tooltip("rung:N", title=_("Rung")),
                alt.Tooltip("customers:Q", title=_("Customers")),
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
            y=alt.Y("value:Q", title=f"{_('Revenue and profit')} ({lang.currency})"),
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
            y=alt.Y("profit:Q", title=f"{_('Profit')} ({lang.currency})"),
            tooltip=[alt.Tooltip("customers:Q", title=_("Customers"))],
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
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("profit:Q", title=f"{_('Cumulative profit')} ({lang.currency})"),
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
