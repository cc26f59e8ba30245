"""The analyst's quick path as a use case: read a transactions file and score it.

A file is read either as it is (``--customer-col``, ``--date-col``, ``--amount-col`` name
columns of a plain UTF-8 CSV, Parquet or XLSX file) or through a column mapping, the TOML
file of ``clientbase import`` (docs/import-mapping.md): then it is read exactly as an
orders import reads it, with the encoding and delimiter detected (or given in ``[file]``),
decimal commas, grouping spaces and currency symbols in amounts, Hungarian and day-first
dates, and ``[values.status]``. The mapping names the columns with the fields of an orders
import (``customer``, ``ordered_at``, ``total``, optionally ``status``), so an orders
mapping works as it is. Such a file is analysed only when every row can be read; otherwise
the rows that cannot are named (row as a spreadsheet shows it, column, value, why).

As in a score run, the policy's purchase model (BG/NBD or Pareto/NBD) and the Gamma-Gamma
spend model are fitted on the purchase occasions when there are enough buyers: each buyer
then gets P(alive), which feeds the activity rule, the expected purchases in the next 12
months and the CLV over the policy's horizon. Transactions carry no cost of goods, so the
CLV is of revenue unless a gross margin ratio is given. With too few buyers the rhythm rule
decides alone and the analysis says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from clientbase.analytics.engine import Engine
from clientbase.analytics.lifetime import repeat_purchase_summary
from clientbase.analytics.quick import analyze_transactions, transaction_inputs
from clientbase.domain.policy import Policy, default_policy
from clientbase.domain.vocabulary import OrderStatus
from clientbase.errors import InvalidInput, NotFound
from clientbase.ingest.issue_texts import render_issue
from clientbase.ingest.kinds import kind_spec
from clientbase.ingest.mapping import Mapping, load_mapping
from clientbase.ingest.parsers import Parsed, parse_choice, parse_datetime, parse_money
from clientbase.ingest.readers import ROW, RawTable, read_table
from clientbase.ingest.report import ISSUE_SCHEMA, figures_json
from clientbase.ingest.validate import resolve_columns
from clientbase.services.lifetime import LifetimeResult, lifetime_values
from clientbase.services.scoring import load_policy

__all__ = [
    "TRANSACTION_FIELDS",
    "QuickAnalysis",
    "analyze_file",
    "analyze_table",
    "read_mapped_transactions",
    "read_transactions",
]

#: Fields of an orders import that ``analyze`` reads; a mapping may name every other orders
#: field too (they are ignored), so that the mapping of an orders import can be reused.
TRANSACTION_FIELDS = ("customer", "ordered_at", "total", "status")
_ORDERS = kind_spec("orders")
_SPEC = replace(
    _ORDERS,
    name="transactions",
    key=(),
    fields=tuple(
        f if f.name in TRANSACTION_FIELDS else replace(f, required=False) for f in _ORDERS.fields
    ),
)
#: Statuses that are no purchase (and no return): the order never happened.
_NOT_BOUGHT = (OrderStatus.CANCELLED.value, OrderStatus.PENDING.value)
#: Rejected rows listed in the message (the count says how many more there are).
_SHOWN_ISSUES = 5


def read_transactions(path: Path) -> pa.Table:
    """A CSV, Parquet or XLSX file as an Arrow table (the file is not changed)."""
    if not path.exists():
        raise NotFound(f"no file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in {".xlsx", ".xls"}:
            frame = pl.read_excel(path)
        else:
            frame = pl.read_csv(path, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from exc
    return frame.to_arrow()


def _field_text(raw: RawTable, columns: dict[str, str], mapping: Mapping, name: str) -> pl.Series:
    """The text of a field (blank is null), with the mapping's ``[values]`` applied."""
    if name in columns:
        text = raw.frame.get_column(columns[name])
    else:
        text = pl.Series([mapping.constants[name]] * raw.frame.height, dtype=pl.String)
    text = text.str.strip_chars()
    text = text.set(text == "", None).alias(name)
    if name in mapping.values:
        lookup = {k.strip(): v for k, v in mapping.values[name].items()}
        text = text.replace(list(lookup), list(lookup.values()))
    return text


def _issues(
    rows: pl.Series, label: str, text: pl.Series | None, mask: pl.Series, parsed: Parsed | None
) -> pl.DataFrame:
    """Issues of the rows in ``mask``: bad values of ``parsed``, else missing values."""
    code, figures = (parsed.code, parsed.figures) if parsed else ("required_missing", {})
    frame = pl.DataFrame(
        {
            "row": rows,
            "value": text if text is not None else pl.Series([None] * rows.len(), dtype=pl.String),
        }
    ).filter(mask)
    return frame.select(
        pl.col("row").cast(pl.Int64),
        pl.lit(label, pl.String).alias("column"),
        pl.col("value").cast(pl.String),
        pl.lit(code, pl.String).alias("code"),
        pl.lit(figures_json(**figures), pl.String).alias("figures"),
    )


def _rejection(name: str, issues: pl.DataFrame, language: str) -> InvalidInput:
    """One message naming the first rejected rows: file, row, column, value and why."""
    rows = issues.get_column("row").n_unique()
    parts = []
    for issue in issues.sort("row").head(_SHOWN_ISSUES).iter_rows(named=True):
        why = render_issue(issue["code"], json.loads(issue["figures"] or "{}"), language)
        where = f"row {issue['row']}"
        if issue["column"]:
            where += f", column {issue['column']!r}"
        value = "" if issue["value"] is None else f" {issue['value']!r}:"
        parts.append(f"{where}:{value} {why}")
    more = issues.height - len(parts)
    listed = "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    noun = "row cannot" if rows == 1 else "rows cannot"
    return InvalidInput(f"{name}: {rows} {noun} be read, so nothing was analysed: {listed}")


def read_mapped_transactions(path: Path, mapping: Mapping, *, language: str = "en") -> pa.Table:
    """Transactions read through a column mapping: ``customer_id`` (text), ``day`` (date) and
    ``amount_minor`` (minor units; a return negative), purchases and returns only.

    A negative amount, or a row whose status is ``returned``, is a return; a ``cancelled``
    or ``pending`` row is left out.

    Raises
    ------
    MappingError
        The mapping names an unknown field or a column the file lacks, or a field among
        customer, ordered_at and total has no column.
    InvalidInput
        The file cannot be read, or some rows cannot (all of them are counted, the first
        ones named with their row, column, value and reason).
    """
    raw = read_table(path, mapping.file)
    columns = resolve_columns(raw, _SPEC, mapping)
    fmt = mapping.number
    rows = raw.frame.get_column(ROW)
    provided = [n for n in TRANSACTION_FIELDS if n in columns or n in mapping.constants]
    labels = {n: columns.get(n, f"[constants] {n}") for n in provided}
    texts = {n: _field_text(raw, columns, mapping, n) for n in provided}
    when = parse_datetime(texts["ordered_at"], fmt, excel=raw.format == "xlsx")
    total = parse_money(texts["total"], fmt, typed=columns.get("total") in raw.typed_columns)
    status = None
    if "status" in texts:
        status = parse_choice(texts["status"], tuple(s.value for s in OrderStatus))
    found = [raw.rejected.select(list(ISSUE_SCHEMA))]
    for name, result in (("customer", None), ("ordered_at", when), ("total", total)):
        found.append(_issues(rows, labels[name], None, texts[name].is_null(), None))
        if result is not None:
            found.append(_issues(rows, labels[name], texts[name], result.bad, result))
    if status is not None:
        found.append(_issues(rows, labels["status"], texts["status"], status.bad, status))
    issues = pl.concat(found)
    if issues.height:
        raise _rejection(raw.name, issues, language)
    frame = pl.DataFrame(
        {
            "customer_id": texts["customer"],
            "day": when.values.dt.date(),
            "amount_minor": total.values,
        }
    )
    if status is not None:
        frame = frame.with_columns(
            status.values.fill_null(OrderStatus.COMPLETED.value).alias("status")
        )
        frame = frame.filter(~pl.col("status").is_in(list(_NOT_BOUGHT))).select(
            "customer_id",
            "day",
            pl.when(pl.col("status") == OrderStatus.RETURNED.value)
            .then(-pl.col("amount_minor").abs())
            .otherwise(pl.col("amount_minor"))
            .alias("amount_minor"),
        )
    return frame.to_arrow()


def _mapping_with(
    path: Path | None, customer_col: str | None, date_col: str | None, amount_col: str | None
) -> Mapping:
    """The mapping file (or the identity mapping) with the columns named on the command line
    taking precedence over it."""
    mapping = load_mapping(path)
    given = {
        field: column
        for field, column in (
            ("customer", customer_col),
            ("ordered_at", date_col),
            ("total", amount_col),
        )
        if column is not None
    }
    constants = {k: v for k, v in mapping.constants.items() if k not in given}
    return replace(mapping, columns={**mapping.columns, **given}, constants=constants)


@dataclass(frozen=True, slots=True)
class QuickAnalysis:
    """Every customer's figures (``table``) and what the lifetime-value step did."""

    table: pa.Table
    as_of: date
    lifetime: str
    lifetime_fitted: bool


def _lifetime(
    data: pa.Table,
    customer_col: str,
    date_col: str,
    amount_col: str,
    *,
    scale: int,
    as_of: date,
    policy: Policy,
    margin: float | None,
) -> LifetimeResult:
    """The policy's lifetime step on the transactions' purchase occasions, with the
    customer ids (any type) given back as they are in the file."""
    if not policy.lifetime.enabled:
        return LifetimeResult(None, "the policy turns the lifetime models off")
    inputs = transaction_inputs(data, customer_col, date_col, amount_col, scale=scale)
    with Engine() as engine:
        orders = engine.to_arrow(inputs.orders)
        ids = pc.unique(orders.column("customer_id"))
        codes = pc.index_in(orders.column("customer_id"), value_set=ids).cast(pa.int64())
        orders = orders.set_column(0, "customer_id", codes)
        summary = engine.to_arrow(repeat_purchase_summary(engine.table(orders), as_of))
    result = lifetime_values(summary, policy.lifetime, margin=1.0 if margin is None else margin)
    if result.table is None:
        return result
    table = result.table.set_column(
        0, "customer_id", pc.take(ids, result.table.column("customer_id"))
    )
    return LifetimeResult(table, result.reason, result.params)


def analyze_table(
    data: pa.Table,
    customer_col: str,
    date_col: str,
    amount_col: str,
    *,
    scale: int = 100,
    as_of: date | None = None,
    language: str = "en",
    margin: float | None = None,
    policy: Policy | None = None,
) -> QuickAnalysis:
    """RFM, rung, category with reasons, and (with enough buyers) P(alive), expected
    purchases and CLV of every customer in a table of transactions."""
    pol = policy or default_policy()
    if margin is not None and not 0 < margin <= 1:
        raise InvalidInput(f"the gross margin ratio must be above 0 and at most 1, not {margin}")
    if as_of is None:
        inputs = transaction_inputs(data, customer_col, date_col, amount_col, scale=scale)
        as_of = inputs.orders.day.max().to_pyarrow().as_py()
        if as_of is None:
            raise InvalidInput("the transactions hold no purchase")
    lifetime = _lifetime(
        data,
        customer_col,
        date_col,
        amount_col,
        scale=scale,
        as_of=as_of,
        policy=pol,
        margin=margin,
    )
    p_alive = None if lifetime.table is None else lifetime.table.select(["customer_id", "p_alive"])
    table = analyze_transactions(
        data,
        customer_col,
        date_col,
        amount_col,
        as_of=as_of,
        policy=pol,
        scale=scale,
        reasons_language=language,
        p_alive=p_alive,
    )
    ids = table.column("customer_id")
    predictions = lifetime.table
    for name, kind in (
        ("p_alive", pa.float64()),
        ("expected_purchases_12m", pa.float64()),
        ("clv_minor", pa.int64()),
    ):
        if predictions is None:
            values = pa.nulls(table.num_rows, kind)
        else:
            index = pc.index_in(ids, value_set=predictions.column("customer_id").cast(ids.type))
            values = pc.take(predictions.column(name), index)
        position = table.schema.get_field_index("reasons")
        if position < 0:
            table = table.append_column(name, values)
        else:
            table = table.add_column(position, name, values)
    note = lifetime.reason
    if predictions is not None:
        what = "revenue" if margin is None else f"gross margin at {margin:.0%} of revenue"
        note += f"; CLV is the {what} over {pol.lifetime.horizon_months} months"
    return QuickAnalysis(table, as_of, note, predictions is not None)


def analyze_file(
    path: Path,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    *,
    mapping: Path | None = None,
    as_of: date | None = None,
    language: str = "en",
    margin: float | None = None,
    policy: Path | None = None,
) -> QuickAnalysis:
    """RFM, purchase-based rung and category, P(alive) and CLV of every customer in a
    transactions file (see :func:`analyze_table`), under the default policy or the one in
    the TOML file ``policy`` (as ``clientbase score --policy``).

    Without ``mapping`` the three columns must be named and the file is read as it is;
    with it, the file is read as an orders import reads it (see the module docstring) and
    the columns named here override the mapping's.
    """
    pol = load_policy(policy)
    if mapping is not None:
        transactions = read_mapped_transactions(
            path, _mapping_with(mapping, customer_col, date_col, amount_col), language=language
        )
        return analyze_table(
            transactions,
            "customer_id",
            "day",
            "amount_minor",
            scale=1,
            as_of=as_of,
            language=language,
            margin=margin,
            policy=pol,
        )
    if customer_col is None or date_col is None or amount_col is None:
        raise InvalidInput(
            "name the columns with --customer-col, --date-col and --amount-col, or give a "
            "--mapping file whose [columns] name customer, ordered_at and total"
        )
    table = read_transactions(path)
    try:
        return analyze_table(
            table,
            customer_col,
            date_col,
            amount_col,
            as_of=as_of,
            language=language,
            margin=margin,
            policy=pol,
        )
    except InvalidInput:
        raise
    except Exception as exc:  # a date or amount column that cannot be read as one
        raise InvalidInput(f"cannot analyse {path.name}: {exc}") from exc
