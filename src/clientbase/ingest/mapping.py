"""Column mappings: how a business's own export is read as it is (see docs/import-mapping.md).

A mapping is a small TOML file::

    source = "webshop"                 # the system the ids come from (unique per source)

    [columns]                          # field = "column as the file names it"
    external_id = "Rendelésszám"
    total = "Végösszeg"

    [constants]                        # field = value given to every row
    sales_channel = "web"

    [format]
    decimal = ","                      # decimal comma
    date_order = "dmy"                 # 15/03/2024; Hungarian 2024.03.15. is always read
    negative_quantity = "return"       # a negative quantity or total is a return

    [values.status]                    # file value = clientbase value
    "Törölve" = "cancelled"

Without a mapping the file's columns must carry the field names themselves.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clientbase.errors import MappingError

__all__ = ["FileOptions", "Mapping", "NumberFormat", "load_mapping", "parse_mapping"]

_DATE_ORDERS = ("ymd", "dmy", "mdy")
#: Kinds whose ids a file may take from another source system (``[sources]``).
_REFERENCED = ("customers", "orders", "products", "campaigns", "partners")


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How numbers, money, dates and lists are written in the file."""

    decimal: str = "."
    thousands: str | None = None
    date_order: str = "ymd"
    date_formats: tuple[str, ...] = ()
    list_separator: str = "|"
    currency_symbols: tuple[str, ...] = ()
    minor_digits: int = 2
    negative_quantity: str = "reject"
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileOptions:
    """How to read the file when detection is not wanted."""

    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class Mapping:
    """A parsed column mapping (the identity mapping when built without arguments)."""

    source: str = "default"
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    number: NumberFormat = field(default_factory=NumberFormat)
    file: FileOptions = field(default_factory=FileOptions)

    def source_of(self, target_kind: str) -> str:
        """The source system whose ids a reference to ``target_kind`` uses."""
        return self.sources.get(target_kind, self.source)


def load_mapping(path: Path | None) -> Mapping:
    """Read a mapping file (``None`` gives the identity mapping).

    Raises
    ------
    MappingError
        The file is not valid TOML or holds unknown settings.
    """
    if path is None:
        return Mapping()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise MappingError(f"mapping file {path} does not exist") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path.name} is not valid TOML: {exc}") from exc
    return parse_mapping(document, name=path.name)


def parse_mapping(document: dict[str, Any], *, name: str = "mapping") -> Mapping:
    """Build a :class:`Mapping` from a parsed TOML document."""
    known = {"source", "columns", "constants", "values", "sources", "format", "file"}
    _no_unknown(document, known, name, "the top level")
    source = document.get("source", "default")
    if not isinstance(source, str) or not source.strip() or len(source) > 40:
        raise MappingError(f"{name}: `source` must be a name of 1 to 40 characters")
    values_doc = _table(document, "values", name)
    values: dict[str, dict[str, str]] = {}
    for field_name, table in values_doc.items():
        if not isinstance(table, dict):
            raise MappingError(f"{name}: [values.{field_name}] must be a table")
        values[field_name] = _strings(table, name, f"values.{field_name}")
    sources = _strings(_table(document, "sources", name), name, "sources")
    _no_unknown(sources, set(_REFERENCED), name, "[sources]")
    return Mapping(
        source=source.strip(),
        columns=_strings(_table(document, "columns", name), name, "columns"),
        constants=_strings(_table(document, "constants", name), name, "constants"),
        values=values,
        sources=sources,
        number=_number_format(_table(document, "format", name), name),
        file=_file_options(_table(document, "file", name), name),
    )


def _number_format(doc: dict[str, Any], name: str) -> NumberFormat:
    _no_unknown(
        doc,
        {
            "decimal",
            "thousands",
            "date_order",
            "date_formats",
            "list_separator",
            "currency_symbols",
            "minor_digits",
            "negative_quantity",
            "true_values",
            "false_values",
        },
        name,
        "[format]",
    )
    fmt = NumberFormat(
        decimal=str(doc.get("decimal", ".")),
        thousands=None if doc.get("thousands") is None else str(doc["thousands"]),
        date_order=str(doc.get("date_order", "ymd")).lower(),
        date_formats=_string_list(doc, "date_formats", name),
        list_separator=str(doc.get("list_separator", "|")),
        currency_symbols=_string_list(doc, "currency_symbols", name),
        minor_digits=doc.get("minor_digits", 2),
        negative_quantity=str(doc.get("negative_quantity", "reject")),
        true_values=_string_list(doc, "true_values", name),
        false_values=_string_list(doc, "false_values", name),
    )
    if fmt.decimal not in {".", ","}:
        raise MappingError(f'{name}: [format] decimal must be "." or ","')
    if fmt.thousands is not None and fmt.thousands == fmt.decimal:
        raise MappingError(f"{name}: [format] thousands and decimal must differ")
    if fmt.date_order not in _DATE_ORDERS:
        raise MappingError(f"{name}: [format] date_order must be one of {', '.join(_DATE_ORDERS)}")
    if not isinstance(fmt.minor_digits, int) or not 0 <= fmt.minor_digits <= 4:
        raise MappingError(f"{name}: [format] minor_digits must be an integer from 0 to 4")
    if fmt.negative_quantity not in {"reject", "return"}:
        raise MappingError(f'{name}: [format] negative_quantity must be "reject" or "return"')
    if not fmt.list_separator:
        raise MappingError(f"{name}: [format] list_separator must not be empty")
    return fmt


def _file_options(doc: dict[str, Any], name: str) -> FileOptions:
    _no_unknown(doc, {"delimiter", "encoding", "sheet"}, name, "[file]")
    delimiter = doc.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise MappingError(f"{name}: [file] delimiter must be one character")
    encoding = doc.get("encoding")
    sheet = doc.get("sheet")
    return FileOptions(
        delimiter=delimiter,
        encoding=None if encoding is None else str(encoding),
        sheet=None if sheet is None else str(sheet),
    )


def _table(doc: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{name}: [{key}] must be a table")
    return value


def _strings(table: dict[str, Any], name: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MappingError(f"{name}: [{where}] {key} must be a string")
        out[str(key)] = str(value)
    return out


def _string_list(doc: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{name}: [format] {key} must be a list of strings")
    return tuple(value)


def _no_unknown(doc: dict[str, Any], known: set[str], name: str, where: str) -> None:
    unknown = sorted(set(doc) - known)
    if unknown:
        raise MappingError(
            f"{name}: unknown setting {', '.join(unknown)} in {where} "
            f"(known: {', '.join(sorted(known))})"
        )
