"""The import report: counts, rejected rows and warnings, printable and writable as CSV.

Every rejection names the file, the row as a spreadsheet shows it (the header is row 1,
the first record row 2), the column as the file names it, the value the user supplied and
the reason. Reasons never quote personal data other than that offending cell value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

__all__ = ["ISSUE_SCHEMA", "ImportCounts", "ImportReport", "issues_frame"]

#: Columns of a frame of issues (rejections or warnings).
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}


def issues_frame(
    rows: list[int] | None = None,
    columns: list[str] | None = None,
    values: list[str | None] | None = None,
    reasons: list[str] | None = None,
) -> pl.DataFrame:
    """A frame of issues from parallel lists (empty when called without arguments)."""
    return pl.DataFrame(
        {
            "row": rows or [],
            "column": columns or [],
            "value": values or [],
            "reason": reasons or [],
        },
        schema=ISSUE_SCHEMA,
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
        ``value``, ``reason``.
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

    def write_csv(self, path: Path) -> None:
        """Write every rejection and warning as CSV (UTF-8 with BOM, so spreadsheets agree).

        Cells starting with ``= + - @`` are prefixed with ``'`` so that a spreadsheet never
        runs a formula a hostile file smuggled in.
        """
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "row", "column", "value", "reason", "severity"])
            for severity, frame in (("error", self.sorted_errors()), ("warning", self.warnings)):
                for row, column, value, reason in frame.iter_rows():
                    writer.writerow(
                        [self.file, row, _cell(column), _cell(value), _cell(reason), severity]
                    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text
