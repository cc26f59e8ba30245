"""Column mappings: parsing the TOML and reporting mistakes in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientbase.errors import MappingError
from clientbase.ingest.mapping import load_mapping, parse_mapping


def test_full_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        """
source = "webshop"
[columns]
external_id = "Rendelésszám"
[constants]
sales_channel = "web"
[format]
decimal = ","
date_order = "dmy"
negative_quantity = "return"
[values.status]
"Törölve" = "cancelled"
[sources]
customers = "erp"
[file]
delimiter = ";"
encoding = "cp1250"
""",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.source == "webshop"
    assert mapping.columns == {"external_id": "Rendelésszám"}
    assert mapping.constants == {"sales_channel": "web"}
    assert mapping.number.decimal == ","
    assert mapping.number.negative_quantity == "return"
    assert mapping.values == {"status": {"Törölve": "cancelled"}}
    assert mapping.source_of("customers") == "erp"
    assert mapping.source_of("campaigns") == "webshop"
    assert mapping.file.delimiter == ";"


def test_no_mapping_is_the_identity() -> None:
    mapping = load_mapping(None)
    assert mapping.source == "default"
    assert mapping.columns == {}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"colums": {}}, "unknown setting colums"),
        ({"format": {"decimal": ";"}}, "decimal"),
        ({"format": {"date_order": "ydm"}}, "date_order"),
        ({"format": {"negative_quantity": "ignore"}}, "negative_quantity"),
        ({"format": {"decimal": ",", "thousands": ","}}, "differ"),
        ({"columns": {"name": ["a"]}}, "must be a string"),
        ({"source": ""}, "source"),
        ({"file": {"delimiter": ";;"}}, "one character"),
        ({"sources": {"client": "erp"}}, "unknown setting client"),
    ],
)
def test_mistakes_are_reported(document: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(document)


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid TOML"):
        load_mapping(path)
