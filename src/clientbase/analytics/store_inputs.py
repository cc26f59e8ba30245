"""The feature inputs as Ibis expressions over the store's own tables (in-database compute).

:func:`clientbase.analytics.sources.store_queries` and
:func:`~clientbase.analytics.sources.normalise_inputs` read the store's activity into Arrow and
normalise it there, for the in-process engine. :func:`store_inputs` is their equivalent when the
features are computed inside the store's database: it normalises the store's tables with Ibis
expressions that run where the tables are, giving the shapes of
:data:`~clientbase.analytics.features.INPUT_SCHEMAS`:

* order statuses and event kinds become the integer codes of
  :data:`~clientbase.analytics.features.ORDER_STATUS_CODES` and
  :data:`~clientbase.analytics.features.EVENT_KIND_CODES` (0 for a value clientbase does not
  know, or none);
* timestamps become their (UTC, as stored) day;
* ids become 64-bit integers; missing costs and amounts count as 0, other missing values
  stay missing;
* nothing dated after the as-of day is read (customers are filtered by the features, as on
  the in-process path).

Nothing here executes (:mod:`clientbase.analytics.engine` does).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.types as ir

from clientbase.analytics.features import EVENT_KIND_CODES, ORDER_STATUS_CODES, FeatureInputs

__all__ = ["STORE_TABLES", "store_inputs"]

#: The store tables the features read.
STORE_TABLES = ("orders", "events", "customers", "campaigns", "campaign_members")


def _id(column: ir.IntegerValue) -> ir.IntegerValue:
    return column.cast("int64")


def store_inputs(table: Callable[[str], ir.Table], as_of: date) -> FeatureInputs:
    """The normalised feature inputs over the store tables that ``table(name)`` returns.

    Parameters
    ----------
    table
        Gives an Ibis table of each of :data:`STORE_TABLES`, e.g.
        :meth:`clientbase.analytics.engine.Engine.source`.
    as_of
        Nothing after the end of this day is read.
    """
    upto = ibis.timestamp(datetime.combine(as_of + timedelta(days=1), time()))
    o, e, c, k, m = (table(name) for name in STORE_TABLES)
    orders = o.filter(o.ordered_at < upto).select(
        customer_id=_id(o.customer_id),
        day=o.ordered_at.date(),
        status=o.status.substitute(ORDER_STATUS_CODES, else_=0).cast("int8"),
        total_minor=o.total_minor.cast("int64"),
        discount_minor=o.discount_minor.cast("int64"),
        cost_minor=o.cost_minor.fill_null(0).cast("int64"),
    )
    events = e.filter(e.occurred_at < upto).select(
        customer_id=_id(e.customer_id),
        day=e.occurred_at.date(),
        kind=e.kind.substitute(EVENT_KIND_CODES, else_=0).cast("int8"),
        amount_minor=e.amount_minor.fill_null(0).cast("int64"),
        cost_minor=e.cost_minor.fill_null(0).cast("int64"),
        rating=e.rating.cast("int64"),
        related_customer_id=_id(e.related_customer_id),
    )
    customers = c.select(
        customer_id=_id(c.id),
        acquired_day=c.acquired_at.date(),
        acquisition_campaign_id=_id(c.acquisition_campaign_id),
        referred_by_customer_id=_id(c.referred_by_customer_id),
    )
    campaigns = k.filter(k.starts_on < (as_of + timedelta(days=1))).select(
        campaign_id=_id(k.id), cost_minor=k.cost_minor.cast("int64"), starts_on=k.starts_on
    )
    responses = m.filter(m.responded_at.notnull() & (m.responded_at < upto)).select(
        customer_id=_id(m.customer_id), day=m.responded_at.date()
    )
    return FeatureInputs(
        orders=orders, events=events, customers=customers, campaigns=campaigns, responses=responses
    )
