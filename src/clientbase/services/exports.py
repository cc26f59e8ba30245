"""Exporting the customer list as CSV or XLSX: permitted, budgeted, audited, spreadsheet-safe.

An export holds exactly what the actor may see (their scope; pseudonymised for analysts),
at most ``Settings.export_max_rows`` rows, and every export is written to the audit log
with its row count, format and filters (never the data). Cells that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed with
an apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import xlsxwriter
from sqlalchemy import Engine

from clientbase.config import Settings
from clientbase.errors import InvalidInput
from clientbase.security.actor import Actor
from clientbase.security.rbac import Permission, require
from clientbase.services.access import audited_denials
from clientbase.services.audit import record
from clientbase.services.customers import CustomerFilter, CustomerView, list_customers
from clientbase.storage.unit_of_work import UnitOfWork

__all__ = ["ExportFile", "ExportFormat", "export_customers", "spreadsheet_safe"]

_COLUMNS = (
    "id",
    "kind",
    "name",
    "email",
    "phone",
    "city",
    "country",
    "acquisition_channel",
    "owner_name",
    "rung",
    "category",
    "net_contribution_minor",
    "clv_minor",
    "p_alive",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes
    rows: int


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with formula-looking text neutralised; numbers and ``None`` unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(engine: Engine, actor: Actor, flt: CustomerFilter, budget: int) -> list[CustomerView]:
    rows: list[CustomerView] = []
    after: int | None = None
    while True:
        page = list_customers(engine, actor, flt, after=after, limit=500)
        if page.total > budget:
            raise InvalidInput(
                f"the export would hold {page.total} rows, more than the budget of {budget}",
                hint="narrow the filters",
            )
        rows.extend(page.items)
        if page.next_after is None:
            return rows
        after = page.next_after


def _table(rows: list[CustomerView]) -> list[list[Any]]:
    return [[spreadsheet_safe(asdict(r)[c]) for c in _COLUMNS] for r in rows]


def _csv(rows: list[CustomerView]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_COLUMNS)
    writer.writerows(_table(rows))
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[CustomerView]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("customers")
    sheet.write_row(0, 0, _COLUMNS)
    for i, row in enumerate(_table(rows), start=1):
        sheet.write_row(i, 0, ["" if v is None else v for v in row])
    book.close()
    return buffer.getvalue()


def export_customers(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    flt: CustomerFilter | None = None,
    fmt: ExportFormat = ExportFormat.CSV,
) -> ExportFile:
    """The visible customers matching ``flt`` as one file, audited."""
    flt = flt or CustomerFilter()
    with audited_denials(engine, actor, "customers.export"):
        require(actor, Permission.CUSTOMERS_EXPORT)
        rows = _rows(engine, actor, flt, settings.export_max_rows)
    content = _csv(rows) if fmt is ExportFormat.CSV else _xlsx(rows)
    with UnitOfWork(engine, write=True) as uow:
        filters = {k: v for k, v in asdict(flt).items() if v is not None and k != "q"}
        record(
            uow.session,
            actor,
            "export",
            entity="customers",
            detail={"rows": len(rows), "format": fmt.value, "filters": filters},
        )
        uow.commit()
    media = (
        "text/csv; charset=utf-8"
        if fmt is ExportFormat.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return ExportFile(f"customers.{fmt.value}", media, content, len(rows))
