"""Reading users' files (CSV, XLSX, Parquet) into a table of text columns.

Every reader gives a :class:`RawTable`: a polars frame with one ``String`` column per column
of the file plus :data:`ROW`, the row number as a spreadsheet shows it (the header is row 1),
and the rows that could not even be split into fields (a truncated last line, a row with
too few or too many fields), already reported.

CSV files are read with any delimiter (``,`` ``;`` tab ``|``, detected), quoting (fields
with the delimiter, quotes or newlines inside) and encoding: UTF-8 with or without BOM,
UTF-16 with BOM, and the Central European code pages cp1250 and ISO-8859-2, which are told
apart by the letters they produce. The fast path is Arrow's multi-threaded CSV parser; a file
with broken rows is re-read with Python's :mod:`csv` so that every row number is exact.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
from charset_normalizer import from_bytes

from clientbase.errors import InvalidInput
from clientbase.ingest.mapping import FileOptions
from clientbase.ingest.report import figures_json, issues_frame

__all__ = ["ROW", "RawTable", "detect_encoding", "read_table"]

#: Name of the row-number column added to every table.
ROW = "__row"

_DELIMITERS = (",", ";", "\t", "|")
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
# Letters of Polish, Hungarian, Czech and Slovak: the decoding that yields more of them wins.
_CE_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻáéíóöőúüűÁÉÍÓÖŐÚÜŰčďěňřšťůžČĎĚŇŘŠŤŮŽ")


@dataclass(slots=True)
class RawTable:
    """A file read as text.

    Attributes
    ----------
    frame
        One ``String`` column per file column (named as in the header) and :data:`ROW`.
    rows
        Records in the file, broken ones included.
    rejected
        Issues for rows that could not be split into fields.
    typed_columns
        Columns that arrived typed (Parquet, XLSX): numbers in them use a decimal point.
    """

    name: str
    format: str
    frame: pl.DataFrame
    rows: int
    rejected: pl.DataFrame = field(default_factory=issues_frame)
    typed_columns: frozenset[str] = frozenset()
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW]


def read_table(path: Path, options: FileOptions | None = None) -> RawTable:
    """Read ``path`` according to its suffix.

    Raises
    ------
    NotFound
        The file does not exist.
    InvalidInput
        The file is empty, has no header, or is not in a format clientbase reads.
    """
    options = options or FileOptions()
    if not path.is_file():
        raise InvalidInput(f"file {path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, options)
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix in _CSV_SUFFIXES or not suffix:
        return _read_csv(path, options)
    raise InvalidInput(f"cannot read {path.name}: use a .csv, .txt, .tsv, .xlsx or .parquet file")


def detect_encoding(data: bytes) -> str:
    """The encoding of ``data``: a BOM, else UTF-8 if it decodes, else the best code page."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if any(0x80 <= b <= 0x9F for b in data[:65536]) and _decodes(data, "cp1250"):
        # C1 control codes never occur in ISO-8859-2 text; cp1250 puts letters there.
        return "cp1250"
    best = from_bytes(data[:262144], cp_isolation=["cp1250", "iso8859_2", "utf_16"]).best()
    guess = best.encoding if best is not None else "cp1250"
    if guess in {"cp1250", "iso8859_2"}:
        sample = data[:262144]
        scores = {
            enc: sum(ch in _CE_LETTERS for ch in sample.decode(enc, errors="replace"))
            for enc in ("cp1250", "iso8859_2")
        }
        guess = "iso8859_2" if scores["iso8859_2"] > scores["cp1250"] else "cp1250"
    return "iso-8859-2" if guess == "iso8859_2" else guess.replace("_", "-")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path, options: FileOptions) -> RawTable:
    data = path.read_bytes()
    encoding = options.encoding or detect_encoding(data)
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidInput(f"unknown encoding {encoding!r} for {path.name}") from exc
    if encoding.replace("_", "-").lower() not in {"utf-8", "utf8", "utf-8-sig"}:
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path.name} is not valid {encoding} (byte {exc.start} cannot be decoded)"
            ) from exc
    elif data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        raise InvalidInput(f"{path.name} is empty: it needs a header row naming its columns")
    sample = data[:65536].decode("utf-8", errors="ignore")
    delimiter = options.delimiter or _sniff_delimiter(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    _check_header(header, path.name)
    table: RawTable | None = None
    if data.count(b'"') % 2 == 0:
        table = _read_csv_fast(data, header, delimiter, path.name)
    if table is None:
        table = _read_csv_exact(data.decode("utf-8"), header, delimiter, path.name)
    table.encoding = encoding
    table.delimiter = delimiter
    return table


def _sniff_delimiter(sample: str) -> str:
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
        if not counts or counts[0] < 2:
            continue
        same = sum(c == counts[0] for c in counts) / len(counts)
        score = (same, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _check_header(header: list[str], name: str) -> None:
    if not any(header):
        raise InvalidInput(f"{name} has no header row naming its columns")
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise InvalidInput(f"{name}: column {position} of the header has no name")
        if column.lower() in seen:
            raise InvalidInput(f"{name}: the header names column {column!r} twice")
        seen.add(column.lower())


def _read_csv_fast(data: bytes, header: list[str], delimiter: str, name: str) -> RawTable | None:
    broken: list[Any] = []

    def on_invalid(row: Any) -> str:
        broken.append(row)
        return "skip"

    try:
        arrow = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=b'"' in data,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if broken:
        return None  # re-read exactly, so that every row number is right
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))
    return RawTable(name=name, format="csv", frame=frame, rows=frame.height)


def _read_csv_exact(text: str, header: list[str], delimiter: str, name: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    numbers: list[int] = []
    issues: dict[str, list[Any]] = {
        "rows": [],
        "columns": [],
        "values": [],
        "codes": [],
        "figures": [],
    }
    width = len(header)
    row = 1
    try:
        next(reader)
        for record in reader:
            row += 1
            if not record:
                row -= 1  # blank lines are not rows
                continue
            if len(record) == width:
                records.append(record)
                numbers.append(row)
            else:
                _issue(issues, row, "row_fields", fields=len(record), expected=width)
    except csv.Error as exc:
        row += 1
        _issue(issues, row, "row_unreadable", detail=str(exc))
    columns = {h: [r[i] for r in records] for i, h in enumerate(header)}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(header, pl.String()))
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return RawTable(
        name=name,
        format="csv",
        frame=frame,
        rows=len(records) + len(issues["rows"]),
        rejected=issues_frame(
            issues["rows"], issues["columns"], issues["values"], issues["codes"], issues["figures"]
        ),
    )


def _issue(issues: dict[str, list[Any]], row: int, code: str, **figures: object) -> None:
    issues["rows"].append(row)
    issues["columns"].append("")
    issues["values"].append(None)
    issues["codes"].append(code)
    issues["figures"].append(figures_json(**figures))


def _read_excel(path: Path, options: FileOptions) -> RawTable:
    try:
        frame = pl.read_excel(
            path,
            sheet_name=options.sheet,
            engine="calamine",
            infer_schema_length=None,
            raise_if_empty=False,
        )
    except Exception as exc:  # the Excel reader raises its own, varied errors
        raise InvalidInput(
            f"cannot read {path.name} as a spreadsheet: {type(exc).__name__}"
        ) from exc
    return _typed_table(path.name, "xlsx", frame)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # pyarrow/polars raise several kinds for a broken file
        raise InvalidInput(f"cannot read {path.name} as Parquet: {type(exc).__name__}") from exc
    return _typed_table(path.name, "parquet", frame)


def _typed_table(name: str, fmt: str, frame: pl.DataFrame) -> RawTable:
    if not frame.columns:
        raise InvalidInput(f"{name} is empty: it needs a header row naming its columns")
    header = [str(c).strip() for c in frame.columns]
    _check_header(header, name)
    typed = frozenset(h for h, t in zip(header, frame.dtypes, strict=True) if t != pl.String)
    frame = frame.rename(dict(zip(frame.columns, header, strict=True)))
    frame = frame.with_columns(
        *(pl.col(c).cast(pl.String) for c in typed),
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW),
    )
    return RawTable(name=name, format=fmt, frame=frame, rows=frame.height, typed_columns=typed)
