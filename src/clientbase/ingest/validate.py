"""From a raw table to a validated batch: mapping, typing, row checks, duplicates in the file.

The result is columnar: a polars frame with one typed column per field that the file (or the
mapping's constants) provides, plus the row number, holding only the rows without errors;
and a frame of issues for the others. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from clientbase.errors import MappingError
from clientbase.ingest.kinds import FieldSpec, FieldType, KindSpec
from clientbase.ingest.mapping import Mapping
from clientbase.ingest.parsers import (
    Parsed,
    parse_bool,
    parse_choice,
    parse_country,
    parse_datetime,
    parse_email,
    parse_int,
    parse_money,
    parse_tags,
    parse_text,
)
from clientbase.ingest.readers import ROW, RawTable
from clientbase.ingest.report import ISSUE_SCHEMA, figures_expr, figures_json, issues_frame

__all__ = ["ValidatedBatch", "resolve_columns", "validate"]


@dataclass(slots=True)
class ValidatedBatch:
    """Valid rows of one file, typed, with what was wrong with the others.

    Attributes
    ----------
    frame
        Typed columns named by field, for the fields in ``provided``, plus :data:`ROW`;
        only rows without errors. References hold the referenced external id (text).
    labels
        Field -> the column name in the file (or ``[constants] field``), for reports.
    errors, warnings
        Issues with the :data:`~clientbase.ingest.report.ISSUE_SCHEMA` columns.
    """

    spec: KindSpec
    source: str
    frame: pl.DataFrame
    provided: tuple[str, ...]
    labels: dict[str, str]
    rows: int
    errors: pl.DataFrame = field(default_factory=issues_frame)
    warnings: pl.DataFrame = field(default_factory=issues_frame)


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def resolve_columns(raw: RawTable, spec: KindSpec, mapping: Mapping) -> dict[str, str]:
    """Field -> file column, from the mapping or from matching names.

    Raises
    ------
    MappingError
        The mapping names an unknown field or a column the file does not have, or a
        required field has neither a column nor a constant.
    """
    known = set(spec.names)
    for section, fields in (("columns", mapping.columns), ("constants", mapping.constants)):
        unknown = sorted(set(fields) - known)
        if unknown:
            raise MappingError(
                f"[{section}] names unknown field {', '.join(unknown)} for {spec.name} "
                f"(fields: {', '.join(spec.names)})"
            )
    both = sorted(set(mapping.columns) & set(mapping.constants))
    if both:
        raise MappingError(f"field {', '.join(both)} is both in [columns] and [constants]")
    by_name = {_normal(c): c for c in raw.columns}
    columns: dict[str, str] = {}
    for spec_field in spec.fields:
        name = spec_field.name
        if name in mapping.constants:
            continue
        wanted = mapping.columns.get(name)
        if wanted is not None:
            found = by_name.get(_normal(wanted))
            if found is None:
                raise MappingError(
                    f"the mapping reads field {name} from column {wanted!r}, which "
                    f"{raw.name} does not have (its columns: {', '.join(raw.columns)})"
                )
            columns[name] = found
        elif _normal(name) in by_name and _normal(name) not in {
            _normal(v) for v in mapping.columns.values()
        }:
            columns[name] = by_name[_normal(name)]
    missing = [
        f.name
        for f in spec.fields
        if f.required and f.name not in columns and f.name not in mapping.constants
    ]
    if missing:
        raise MappingError(
            f"{raw.name} has no column for the required field {', '.join(missing)} of "
            f"{spec.name} (its columns: {', '.join(raw.columns) or 'none'}); "
            "map one in [columns] or give a value in [constants]"
        )
    return columns


def validate(
    raw: RawTable,
    spec: KindSpec,
    mapping: Mapping,
    progress: Callable[[int, int], None] | None = None,
) -> ValidatedBatch:
    """Map, type and check every row of ``raw`` as ``spec`` (see the module docstring).

    ``progress(done, total)`` is called as each field has been checked on every row
    (``total`` is the number of fields the file provides).
    """
    columns = resolve_columns(raw, spec, mapping)
    provided = [f.name for f in spec.fields if f.name in columns or f.name in mapping.constants]
    fields_total = len(provided)
    if progress is not None:
        progress(0, fields_total)
    labels = {n: columns.get(n, f"[constants] {n}") for n in provided}
    frame = raw.frame
    texts: dict[str, pl.Series] = {}
    for name in provided:
        if name in columns:
            text = frame.get_column(columns[name])
        else:
            text = pl.Series([mapping.constants[name]] * frame.height, dtype=pl.String)
        text = text.str.strip_chars()
        text = text.set(text == "", None).alias(name)
        if name in mapping.values:
            lookup = {k.strip(): v for k, v in mapping.values[name].items()}
            text = text.replace(list(lookup), list(lookup.values()))
        texts[name] = text
    rows = frame.get_column(ROW)
    issues: list[pl.DataFrame] = [raw.rejected]
    typed: dict[str, pl.Series] = {ROW: rows}
    for name in provided:
        spec_field = spec.field(name)
        text = texts[name]
        typed_column = columns.get(name) in raw.typed_columns
        parsed = _parse(spec_field, text, mapping, typed=typed_column, excel=raw.format == "xlsx")
        issues.append(_issues(rows, labels[name], text, parsed.bad, parsed.code, **parsed.figures))
        if spec_field.required:
            issues.append(_issues(rows, labels[name], text, text.is_null(), "required_missing"))
        values = parsed.values
        if spec_field.default is not None:
            values = values.fill_null(_typed_default(spec_field))
        values, more = _range_checks(spec_field, values, rows, labels[name], text, mapping)
        issues.extend(more)
        typed[name] = values.alias(name)
        if progress is not None:
            progress(len(typed) - 1, fields_total)
    batch = pl.DataFrame(typed)
    batch = _returns(batch, spec, mapping)
    if "status" in batch.columns and "status" not in provided:
        provided.append("status")
        labels["status"] = labels["total"]
    errors = pl.concat([i.select(list(ISSUE_SCHEMA)) for i in issues])
    bad_rows = errors.get_column("row").unique()
    batch = batch.filter(~pl.col(ROW).is_in(bad_rows.implode()))
    batch, duplicates = _in_file_duplicates(batch, spec, labels, texts, rows)
    errors = pl.concat([errors, duplicates])
    if "line_no" in spec.names and "line_no" not in provided:
        batch = batch.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("order").alias("line_no")
        )
        provided.append("line_no")
        labels["line_no"] = "line_no"
    warnings = _email_warnings(batch, spec, labels)
    return ValidatedBatch(
        spec=spec,
        source=mapping.source,
        frame=batch,
        provided=tuple(provided),
        labels=labels,
        rows=raw.rows,
        errors=errors,
        warnings=warnings,
    )


def _parse(
    spec_field: FieldSpec, text: pl.Series, mapping: Mapping, *, typed: bool, excel: bool
) -> Parsed:
    fmt = mapping.number
    kind = spec_field.type
    if kind is FieldType.INT:
        return parse_int(text)
    if kind is FieldType.MONEY:
        return parse_money(text, fmt, typed=typed)
    if kind in {FieldType.DATE, FieldType.DATETIME}:
        return parse_datetime(text, fmt, excel=excel, date_only=kind is FieldType.DATE)
    if kind is FieldType.BOOL:
        return parse_bool(text, fmt)
    if kind is FieldType.ENUM:
        return parse_choice(text, spec_field.choices)
    if kind is FieldType.TAGS:
        return parse_tags(text, fmt)
    if kind is FieldType.EMAIL:
        return parse_email(text, spec_field.max_length)
    if kind is FieldType.COUNTRY:
        return parse_country(text)
    if kind is FieldType.REF:
        return parse_text(text, 120)
    return parse_text(text, spec_field.max_length)


def _typed_default(spec_field: FieldSpec) -> object:
    default = spec_field.default
    if spec_field.type is FieldType.MONEY:
        return int(default or 0)
    if spec_field.type is FieldType.BOOL:
        return default == "true"
    return default


def _range_checks(
    spec_field: FieldSpec,
    values: pl.Series,
    rows: pl.Series,
    label: str,
    text: pl.Series,
    mapping: Mapping,
) -> tuple[pl.Series, list[pl.DataFrame]]:
    found: list[pl.DataFrame] = []
    returns = mapping.number.negative_quantity == "return"
    if spec_field.type is FieldType.MONEY and not spec_field.negative_allowed:
        negative = (values < 0).fill_null(False)
        if spec_field.name == "total" and returns:
            negative = pl.Series([False] * values.len())
        found.append(_issues(rows, label, text, negative, "amount_negative"))
    if spec_field.type is FieldType.INT:
        low, high = spec_field.minimum, spec_field.maximum
        if spec_field.name == "quantity" and returns:
            low = -high if high is not None else None
        if low is not None:
            under = (values < low).fill_null(False)
            if spec_field.name == "quantity" and low == 0:
                found.append(_issues(rows, label, text, under, "quantity_negative"))
            else:
                found.append(_issues(rows, label, text, under, "int_too_small", minimum=low))
        if high is not None:
            over = (values > high).fill_null(False)
            found.append(_issues(rows, label, text, over, "int_too_large", maximum=high))
    return values, found


def _returns(batch: pl.DataFrame, spec: KindSpec, mapping: Mapping) -> pl.DataFrame:
    """With ``negative_quantity = "return"`` a negative order total is a returned order."""
    if spec.name != "orders" or mapping.number.negative_quantity != "return":
        return batch
    if "total" not in batch.columns:
        return batch
    negative = pl.col("total") < 0
    updates = [pl.when(negative).then(-pl.col("total")).otherwise(pl.col("total")).alias("total")]
    if "status" in batch.columns:
        updates.append(
            pl.when(negative).then(pl.lit("returned")).otherwise(pl.col("status")).alias("status")
        )
    else:
        updates.append(
            pl.when(negative)
            .then(pl.lit("returned"))
            .otherwise(pl.lit("completed"))
            .alias("status")
        )
    return batch.with_columns(updates)


def _issues(
    rows: pl.Series, label: str, text: pl.Series, mask: pl.Series, code: str, **figures: object
) -> pl.DataFrame:
    if not mask.any():
        return issues_frame()
    count = int(mask.sum())
    return pl.DataFrame(
        {
            "row": rows.filter(mask),
            "column": pl.Series([label] * count, dtype=pl.String),
            "value": text.filter(mask).cast(pl.String),
            "code": pl.Series([code] * count, dtype=pl.String),
            "figures": pl.Series([figures_json(**figures)] * count, dtype=pl.String),
        }
    )


def _in_file_duplicates(
    batch: pl.DataFrame,
    spec: KindSpec,
    labels: dict[str, str],
    texts: dict[str, pl.Series],
    rows: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    keys = [k for k in spec.key if k in batch.columns]
    if len(keys) != len(spec.key) or batch.height == 0:
        return batch, issues_frame()
    if len(keys) == 1 and _strictly_increasing(batch.get_column(keys[0])):
        return batch, issues_frame()  # exports are often in key order: no hashing needed
    if not batch.select(pl.struct(keys).is_duplicated().any()).item():
        return batch, issues_frame()
    first = pl.col(ROW).min().over(keys)
    marked = batch.with_columns(first.alias("__first"))
    dupes = marked.filter(pl.col(ROW) != pl.col("__first"))
    if dupes.height == 0:
        return batch, issues_frame()
    key = keys[0]
    value = pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator=" / ")
    found = dupes.select(
        pl.col(ROW).alias("row"),
        pl.lit(labels[key]).alias("column"),
        value.alias("value"),
        pl.lit("duplicate_key").alias("code"),
        figures_expr(keys=pl.lit(" + ".join(keys)), first_row=pl.col("__first")),
    )
    return marked.filter(pl.col(ROW) == pl.col("__first")).drop("__first"), found


def _strictly_increasing(column: pl.Series) -> bool:
    """Whether every value is greater than the one before (so no two are equal)."""
    if column.null_count():
        return False
    if column.len() < 2:
        return True
    return bool((column.head(-1) < column.tail(-1)).all())


def _email_warnings(batch: pl.DataFrame, spec: KindSpec, labels: dict[str, str]) -> pl.DataFrame:
    if spec.name != "customers" or "email" not in batch.columns or batch.height == 0:
        return issues_frame()
    lowered = pl.col("email").str.to_lowercase()
    marked = batch.filter(pl.col("email").is_not_null()).with_columns(
        pl.col(ROW).min().over(lowered).alias("__first")
    )
    later = marked.filter(pl.col(ROW) != pl.col("__first"))
    return later.select(
        pl.col(ROW).alias("row"),
        pl.lit(labels["email"]).alias("column"),
        pl.col("email").alias("value"),
        pl.lit("email_duplicate_in_file").alias("code"),
        figures_expr(first_row=pl.col("__first")),
    )
