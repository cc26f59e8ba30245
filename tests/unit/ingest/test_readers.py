"""Reading CSV (delimiters, quoting, encodings), XLSX and Parquet into text tables."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from clientbase.errors import InvalidInput
from clientbase.ingest.mapping import FileOptions
from clientbase.ingest.readers import ROW, detect_encoding, read_table

NAMES = ["Kovács Ödön", "Szőke Tünde", "Łukasz Źdźbło", "Ślęża Gąska"]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _people_csv(delimiter: str = ",") -> str:
    lines = [delimiter.join(["external_id", "name", "city"])]
    cities = ["Győr", "Pécs", "Łódź", "Kraków"]
    for i, (name, city) in enumerate(zip(NAMES, cities, strict=True), start=1):
        lines.append(delimiter.join([f"C{i}", name, city]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250", "iso-8859-2"])
def test_encodings_are_detected_and_letters_survive(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path / "people.csv", _people_csv(), encoding)
    table = read_table(path)
    assert table.encoding == encoding
    assert table.columns == ["external_id", "name", "city"]
    assert table.frame.get_column("name").to_list() == NAMES
    assert table.frame.get_column("city").to_list() == ["Győr", "Pécs", "Łódź", "Kraków"]


def test_cp1250_and_iso_8859_2_are_told_apart_without_c1_bytes() -> None:
    text = "nazwa\nąśź ĄŚŹ zażółć gęślą jaźń\n"
    assert detect_encoding(text.encode("iso-8859-2")) == "iso-8859-2"
    assert detect_encoding(text.encode("cp1250")) == "cp1250"


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    path = _write(tmp_path / f"{name}.csv", _people_csv(delimiter), "utf-8")
    table = read_table(path)
    assert table.delimiter == delimiter
    assert table.frame.height == 4
    assert table.frame.get_column("external_id").to_list() == ["C1", "C2", "C3", "C4"]


def test_quoted_fields_with_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = (
        "external_id,name,address\n"
        'C1,"Nagy, Béla","Fő utca 1.\n2. emelet"\n'
        'C2,"Anna ""Panni"" Kiss",Váci út 3.\n'
    )
    table = read_table(_write(tmp_path / "q.csv", text, "utf-8"))
    assert table.frame.get_column("name").to_list() == ["Nagy, Béla", 'Anna "Panni" Kiss']
    assert table.frame.get_column("address").to_list()[0] == "Fő utca 1.\n2. emelet"
    assert table.frame.get_column(ROW).to_list() == [2, 3]


def test_row_with_too_few_fields_is_rejected_with_its_spreadsheet_row(tmp_path: Path) -> None:
    text = 'external_id,name,city\nC1,"Nagy\nBéla",Győr\nC2,Kiss\nC3,Tóth,Pécs\n'
    table = read_table(_write(tmp_path / "ragged.csv", text, "utf-8"))
    assert table.rows == 3
    assert table.frame.get_column(ROW).to_list() == [2, 4]
    assert table.rejected.get_column("row").to_list() == [3]
    assert table.rejected.get_column("code").to_list() == ["row_fields"]
    assert json.loads(table.rejected.get_column("figures")[0]) == {"fields": 2, "expected": 3}


def test_truncated_last_line_inside_quotes_is_rejected(tmp_path: Path) -> None:
    text = 'external_id,name,city\nC1,Nagy,Győr\nC2,"Kiss'
    table = read_table(_write(tmp_path / "cut.csv", text, "utf-8"))
    assert table.rows == 2
    assert table.frame.get_column("external_id").to_list() == ["C1"]
    assert table.rejected.get_column("row").to_list() == [3]
    assert table.rejected.get_column("code").to_list() == ["row_unreadable"]


def test_truncated_last_line_with_missing_fields(tmp_path: Path) -> None:
    text = "external_id,name,city\nC1,Nagy,Győr\nC2,Ki"
    table = read_table(_write(tmp_path / "cut.csv", text, "utf-8"))
    assert table.rows == 2
    assert table.rejected.get_column("row").to_list() == [3]


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_table(_write(tmp_path / "empty.csv", "", "utf-8"))


def test_header_only_gives_no_rows(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path / "header.csv", "external_id,name\n", "utf-8"))
    assert table.rows == 0
    assert table.columns == ["external_id", "name"]


def test_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="twice"):
        read_table(_write(tmp_path / "dup.csv", "id,name,ID\n1,a,2\n", "utf-8"))


def test_explicit_file_options_override_detection(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.txt", _people_csv(";"), "cp1250")
    table = read_table(path, FileOptions(delimiter=";", encoding="cp1250"))
    assert table.frame.get_column("name").to_list() == NAMES


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Vevők")
    sheet.write_row(0, 0, ["external_id", "name", "total"])
    for row, name in enumerate(NAMES, start=1):
        sheet.write_row(row, 0, [f"C{row}", name, 12990.5 * row])
    book.close()
    table = read_table(path)
    assert table.format == "xlsx"
    assert table.frame.get_column("name").to_list() == NAMES
    assert "total" in table.typed_columns
    assert table.frame.get_column(ROW).to_list() == [2, 3, 4, 5]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    pl.DataFrame(
        {"external_id": ["C1", "C2"], "name": NAMES[:2], "birth_year": [1980, 1975]}
    ).write_parquet(path)
    table = read_table(path)
    assert table.format == "parquet"
    assert table.frame.get_column("birth_year").to_list() == ["1980", "1975"]
    assert table.typed_columns == frozenset({"birth_year"})


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        read_table(_write(tmp_path / "x.json", "{}", "utf-8"))
