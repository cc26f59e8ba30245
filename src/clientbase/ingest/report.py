"""The import report: counts, rejected rows and warnings, printable and writable as CSV.

Every rejection names the file, the row as a spreadsheet shows it (the header is row 1,
the first record row 2), the column as the file names it, the value the user supplied and
the reason. A reason is kept as a stable code and its figures (JSON text), e.g.
``date_invalid`` with ``{"date_only": true, "expected": "2024-03-15"}``, and written as a
sentence in the reader's language only when shown (:func:`with_reasons`, texts in
:mod:`clientbase.ingest.issue_texts`). Reasons never quote personal data other than that
offending cell value.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from clientbase.ingest.issue_texts import render_issue

__all__ = [
    "ISSUE_SCHEMA",
    "ImportCounts",
    "ImportReport",
    "figures_expr",
    "figures_json",
    "issues_frame",
    "with_reasons",
]

#: Columns of a frame of issues (rejections or warnings): ``code`` is a code of
#: :mod:`clientbase.ingest.issue_texts`, ``figures`` its figures as JSON text.
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "code": pl.String(),
    "figures": pl.String(),
}


def figures_json(**figures: object) -> str:
    """Figures as the JSON text of the ``figures`` column (keys sorted, so equal figures
    give equal texts)."""
    return json.dumps(figures, sort_keys=True, ensure_ascii=False)


def figures_expr(**figures: pl.Expr) -> pl.Expr:
    """The ``figures`` column (JSON text, keys sorted) from one expression per figure, for
    issues whose figures differ from row to row."""
    return (
        pl.struct([figures[name].alias(name) for name in sorted(figures)])
        .struct.json_encode()
        .alias("figures")
    )


def issues_frame(
    rows: list[int] | None = None,
    columns: list[str] | None = None,
    values: list[str | None] | None = None,
    codes: list[str] | None = None,
    figures: list[str] | None = None,
) -> pl.DataFrame:
    """A frame of issues from parallel lists (empty when called without arguments)."""
    return pl.DataFrame(
        {
            "row": rows or [],
            "column": columns or [],
            "value": values or [],
            "code": codes or [],
            "figures": figures or [],
        },
        schema=ISSUE_SCHEMA,
    )


def with_reasons(frame: pl.DataFrame, language: str = "en") -> pl.DataFrame:
    """``frame`` (issues) with a ``reason`` column: each code and figures as a sentence in
    ``language``. Each distinct (code, figures) is written once, however many rows share it.
    """
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    distinct = frame.select("code", "figures").unique(maintain_order=True)
    reasons = [
        render_issue(code, json.loads(figures or "{}"), language)
        for code, figures in distinct.iter_rows()
    ]
    texts = distinct.with_columns(pl.Series("reason", reasons, dtype=pl.String))
    return frame.join(
        texts, on=["code", "figures"], how="left", maintain_order="left", nulls_equal=True
    )


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """How the rows of a file were handled.

    Always ``rows == imported + updated + unchanged + rejected``.
    """

    rows: int
    imported: int
    updated: int
    unchanged: int
    rejected: int

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass(slots=True)
class ImportReport:
    """What an import did (or would have done) with each row of one file.

    Attributes
    ----------
    file, kind, source
        The file's name, what it holds and the source system its ids belong to.
    rows
        Records in the file (the header excluded).
    errors
        One line per problem found (a row may have several); columns ``row``, ``column``,
        ``value``, ``code``, ``figures`` (see :func:`with_reasons`).
    warnings
        Problems that do not reject a row (e.g. a possible duplicate customer).
    committed
        Whether the rows were written.
    """

    file: str
    kind: str
    source: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: pl.DataFrame = field(default_factory=issues_frame)
    warnings: pl.DataFrame = field(default_factory=issues_frame)
    committed: bool = False
    details: dict[str, str] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Rows with at least one error."""
        return int(self.errors.get_column("row").n_unique()) if self.errors.height else 0

    @property
    def counts(self) -> ImportCounts:
        return ImportCounts(
            rows=self.rows,
            imported=self.imported,
            updated=self.updated,
            unchanged=self.unchanged,
            rejected=self.rejected,
        )

    def add_errors(self, frame: pl.DataFrame) -> None:
        """Append rejections (a frame with the :data:`ISSUE_SCHEMA` columns)."""
        if frame.height:
            self.errors = pl.concat([self.errors, frame.select(list(ISSUE_SCHEMA))])

    def add_warnings(self, frame: pl.DataFrame) -> None:
        """Append warnings (a frame with the :data:`ISSUE_SCHEMA` columns)."""
        if frame.height:
            self.warnings = pl.concat([self.warnings, frame.select(list(ISSUE_SCHEMA))])

    def sorted_errors(self) -> pl.DataFrame:
        return self.errors.sort(["row", "column"], maintain_order=True)

    def summary(self) -> str:
        """One line with the counts, e.g. for the audit log or the terminal."""
        c = self.counts
        return (
            f"{c.rows} rows in {self.file}: {c.imported} imported, {c.updated} updated, "
            f"{c.unchanged} unchanged, {c.rejected} rejected"
        )

    def write_csv(self, path: Path, language: str = "en") -> None:
        """Write every rejection and warning as CSV (UTF-8 with BOM, so spreadsheets agree).

        Columns: file, row, column, value, reason (in ``language``), severity, code.
        Cells starting with ``= + - @`` are prefixed with ``'`` so that a spreadsheet never
        runs a formula a hostile file smuggled in.
        """
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "row", "column", "value", "reason", "severity", "code"])
            for severity, frame in (("error", self.sorted_errors()), ("warning", self.warnings)):
                shown = with_reasons(frame, language).select(
                    "row", "column", "value", "reason", "code"
                )
                for row, column, value, reason, code in shown.iter_rows():
                    writer.writerow(
                        [
                            self.file,
                            row,
                            _cell(column),
                            _cell(value),
                            _cell(reason),
                            severity,
                            code,
                        ]
                    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text
