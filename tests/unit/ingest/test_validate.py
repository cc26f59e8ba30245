"""Validation of whole files: mapping, types, required values, duplicates, row numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from clientbase.errors import MappingError
from clientbase.ingest.kinds import kind_spec
from clientbase.ingest.mapping import Mapping, parse_mapping
from clientbase.ingest.readers import ROW, read_table
from clientbase.ingest.report import with_reasons
from clientbase.ingest.validate import validate

HUNGARIAN_ORDERS = (
    "Rendelésszám;Vevőazonosító;Dátum;Állapot;Végösszeg;Kedvezmény;Megjegyzés\n"
    "R-1001;V-001;2024.03.15.;Teljesítve;12 990 Ft;0 Ft;első rendelés\n"
    'R-1002;V-002;2024.03.16. 14:05;Törölve;"1 234,50 Ft";;"szállítás: ""futár"""\n'
    "R-1003;V-001;2024.03.17.;Visszaküldve;-4 500 Ft;0;\n"
)

HUNGARIAN_MAPPING = {
    "source": "webshop",
    "columns": {
        "external_id": "Rendelésszám",
        "customer": "Vevőazonosító",
        "ordered_at": "Dátum",
        "status": "Állapot",
        "total": "Végösszeg",
        "discount": "Kedvezmény",
    },
    "constants": {"sales_channel": "web"},
    "format": {"decimal": ",", "negative_quantity": "return"},
    "values": {
        "status": {
            "Teljesítve": "completed",
            "Törölve": "cancelled",
            "Visszaküldve": "returned",
        }
    },
}


def _csv(tmp_path: Path, text: str, name: str = "f.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_hungarian_webshop_export_with_a_mapping(tmp_path: Path) -> None:
    raw = read_table(_csv(tmp_path, HUNGARIAN_ORDERS, "rendelesek.csv", "cp1250"))
    batch = validate(raw, kind_spec("orders"), parse_mapping(HUNGARIAN_MAPPING))
    assert batch.errors.height == 0, batch.errors
    frame = batch.frame.sort(ROW)
    assert frame.get_column("external_id").to_list() == ["R-1001", "R-1002", "R-1003"]
    assert frame.get_column("customer").to_list() == ["V-001", "V-002", "V-001"]
    assert frame.get_column("ordered_at").to_list() == [
        dt.datetime(2024, 3, 15),
        dt.datetime(2024, 3, 16, 14, 5),
        dt.datetime(2024, 3, 17),
    ]
    assert frame.get_column("status").to_list() == ["completed", "cancelled", "returned"]
    assert frame.get_column("total").to_list() == [1_299_000, 123_450, 450_000]
    assert frame.get_column("discount").to_list() == [0, 0, 0]
    assert frame.get_column("sales_channel").to_list() == ["web"] * 3
    assert batch.source == "webshop"
    assert batch.labels["total"] == "Végösszeg"


def test_negative_total_means_returned_when_the_mapping_says_so(tmp_path: Path) -> None:
    text = "external_id,customer,ordered_at,total\nO1,C1,2024-01-02,-10\nO2,C1,2024-01-02,10\n"
    mapping = parse_mapping({"format": {"negative_quantity": "return"}})
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("orders"), mapping)
    assert batch.frame.get_column("status").to_list() == ["returned", "completed"]
    assert batch.frame.get_column("total").to_list() == [1000, 1000]


def test_negative_quantity_is_a_returned_line_only_with_the_mapping(tmp_path: Path) -> None:
    text = "order,product,quantity,unit_price\nO1,P1,2,10\nO1,P2,-1,10\n"
    plain = validate(read_table(_csv(tmp_path, text)), kind_spec("order-lines"), Mapping())
    assert plain.errors.get_column("row").to_list() == [3]
    assert plain.errors.get_column("code")[0] == "quantity_negative"
    returns = parse_mapping({"format": {"negative_quantity": "return"}})
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("order-lines"), returns)
    assert batch.errors.height == 0
    assert batch.frame.get_column("quantity").to_list() == [2, -1]
    assert batch.frame.get_column("line_no").to_list() == [1, 2]


def test_malformed_rows_are_reported_with_row_column_value_and_reason(tmp_path: Path) -> None:
    text = (
        "external_id,name,price,unit_cost,active\n"
        "P1,Bögre,1290,500,igen\n"  # row 2: fine
        "P2,,990,,\n"  # row 3: name missing
        "P3,Tányér,sok,,\n"  # row 4: not an amount
        "P4,Kanál,-5,,\n"  # row 5: negative price
        "P5,Villa,100,,talán\n"  # row 6: not yes/no
        "P1,Bögre másik,1290,,\n"  # row 7: duplicate id of row 2
        ",Kés,100,,\n"  # row 8: id missing
    )
    raw = read_table(_csv(tmp_path, text, "products.csv"))
    batch = validate(raw, kind_spec("products"), Mapping())
    errors = {
        (r, c): (v, code, json.loads(figures))
        for r, c, v, code, figures in batch.errors.iter_rows()
    }
    assert errors[(3, "name")] == (None, "required_missing", {})
    assert errors[(4, "price")] == ("sok", "amount_invalid", {"decimal": ".", "digits": 2})
    assert errors[(5, "price")] == ("-5", "amount_negative", {})
    assert errors[(6, "active")] == ("talán", "bool_invalid", {})
    assert errors[(7, "external_id")] == (
        "P1",
        "duplicate_key",
        {"keys": "external_id", "first_row": 2},
    )
    assert errors[(8, "external_id")] == (None, "required_missing", {})
    english = with_reasons(batch.errors, "en")
    reasons = {(r, c): why for r, c, why in english.select("row", "column", "reason").iter_rows()}
    assert reasons[(3, "name")] == "required value missing"
    assert reasons[(4, "price")] == "not an amount (decimal point, at most 2 decimals)"
    assert reasons[(7, "external_id")] == "duplicate: the same external_id as row 2"
    assert batch.frame.get_column(ROW).to_list() == [2]
    rejected = batch.errors.get_column("row").n_unique()
    assert batch.frame.height + rejected == raw.rows == 7


@pytest.mark.parametrize(
    ("ids", "duplicate_rows"),
    [
        (["O1", "O2", "O3", "O4"], []),  # in key order: no duplicate
        (["O1", "O2", "O2", "O3"], [4]),  # in key order, one id twice
        (["O3", "O1", "O2", "O1"], [5]),  # in no order, one id twice
        (["O4", "O3", "O2", "O1"], []),  # in reverse order
    ],
)
def test_duplicate_ids_are_found_in_any_order(
    tmp_path: Path, ids: list[str], duplicate_rows: list[int]
) -> None:
    text = "external_id,customer,ordered_at,total\n" + "".join(
        f"{i},C1,2024-03-15,10\n" for i in ids
    )
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("orders"), Mapping())
    assert batch.errors.get_column("row").to_list() == duplicate_rows
    assert batch.frame.height == len(ids) - len(duplicate_rows)


def test_impossible_date_and_wrong_number(tmp_path: Path) -> None:
    text = "external_id,customer,ordered_at,total\nO1,C1,2024-02-30,10\nO2,C1,2024-02-29,1O\n"
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("orders"), Mapping())
    assert batch.errors.select("row", "column", "value").rows() == [
        (2, "ordered_at", "2024-02-30"),
        (3, "total", "1O"),
    ]


def test_unknown_choice(tmp_path: Path) -> None:
    text = "external_id,acquisition_channel\nC1,Targeted ads\nC2,television\n"
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("customers"), Mapping())
    assert batch.errors.select("row", "value").rows() == [(3, "television")]
    assert batch.frame.get_column("acquisition_channel").to_list() == ["targeted_ads"]


def test_possible_duplicate_customers_by_email_are_warnings(tmp_path: Path) -> None:
    text = "external_id,email\nC1,anna@example.hu\nC2,ANNA@example.hu\n"
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("customers"), Mapping())
    assert batch.errors.height == 0
    assert batch.warnings.select("row", "column").rows() == [(3, "email")]
    assert batch.warnings.get_column("code")[0] == "email_duplicate_in_file"
    assert json.loads(batch.warnings.get_column("figures")[0]) == {"first_row": 2}


def test_mapping_to_a_missing_column_is_a_mapping_error(tmp_path: Path) -> None:
    raw = read_table(_csv(tmp_path, "id,name\n1,a\n"))
    with pytest.raises(MappingError, match="does not have"):
        validate(raw, kind_spec("customers"), parse_mapping({"columns": {"external_id": "Kód"}}))


def test_required_field_without_a_column_is_a_mapping_error(tmp_path: Path) -> None:
    raw = read_table(_csv(tmp_path, "id,name\n1,a\n"))
    with pytest.raises(MappingError, match="required field external_id"):
        validate(raw, kind_spec("customers"), Mapping())


def test_unknown_field_in_the_mapping(tmp_path: Path) -> None:
    raw = read_table(_csv(tmp_path, "external_id\n1\n"))
    with pytest.raises(MappingError, match="unknown field nickname"):
        validate(raw, kind_spec("customers"), parse_mapping({"constants": {"nickname": "x"}}))


def test_header_only_file_validates_to_nothing(tmp_path: Path) -> None:
    raw = read_table(_csv(tmp_path, "external_id,customer,ordered_at,total\n"))
    batch = validate(raw, kind_spec("orders"), Mapping())
    assert batch.frame.height == 0
    assert batch.errors.height == 0


def test_tags_are_lists(tmp_path: Path) -> None:
    text = "external_id,interests\nC1,sport | bor|\nC2,\n"
    batch = validate(read_table(_csv(tmp_path, text)), kind_spec("customers"), Mapping())
    assert batch.frame.get_column("interests").to_list() == [["sport", "bor"], None]
    assert batch.frame.schema["interests"] == pl.List(pl.String)
