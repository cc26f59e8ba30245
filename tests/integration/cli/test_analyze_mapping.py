"""``clientbase analyze FILE --mapping F``: an export read as ``clientbase import`` reads it."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from clientbase.cli.app import main
from clientbase.domain.policy import default_policy
from clientbase.services.lifetime import lifetime_values

HU_MAPPING = """\
source = "webshop"

[columns]
customer = "Vevőkód"
ordered_at = "Dátum"
status = "Állapot"
total = "Végösszeg"
external_id = "Rendelésszám"   # fields of an orders import that analyze does not need

[constants]
sales_channel = "web"

[format]
decimal = ","
negative_quantity = "return"

[values.status]
"Teljesítve" = "completed"
"Függőben" = "pending"
"Törölve" = "cancelled"
"Visszaküldve" = "returned"
"""

HU_ROWS = [
    ("Rendelésszám", "Vevőkód", "Dátum", "Állapot", "Végösszeg"),
    ("R-1", "V-001", "2025.01.10.", "Teljesítve", "12 990 Ft"),
    ("R-2", "V-001", "2025.03.14.", "Teljesítve", '"1 234,50 Ft"'),
    ("R-3", "V-001", "2025.03.20.", "Visszaküldve", '"234,50 Ft"'),
    ("R-4", "V-002", "2024.02.01.", "Teljesítve", "5 000"),
    ("R-5", "Ő-003", "2025.02.01.", "Törölve", "99 999"),
    ("R-6", "Ő-003", "2025.02.15. 14:05", "Teljesítve", '"2 500,00"'),
    ("R-7", "Ő-003", "2025.03.01.", "Függőben", "700"),
    ("R-8", "V-004", "2025.01.05.", "Teljesítve", "3 000"),
    ("R-9", "V-004", "2025.02.05.", "Teljesítve", "3 000"),
    ("R-10", "V-004", "2025.03.05.", "Teljesítve", "3 000"),
    ("R-11", "V-004", "2025.04.05.", "Teljesítve", "3 000"),
]

#: The same purchases and returns as a plain CSV (a return as a negative amount).
PLAIN = """\
cust,day,amount
V-001,2025-01-10,12990
V-001,2025-03-14,1234.50
V-001,2025-03-20,-234.50
V-002,2024-02-01,5000
Ő-003,2025-02-15,2500
V-004,2025-01-05,3000
V-004,2025-02-05,3000
V-004,2025-03-05,3000
V-004,2025-04-05,3000
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def analysed(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, Any]]:
    code, out, err = cli(capsys, "analyze", *args, "-f", "json")
    assert code == 0, err
    return {row["customer_id"]: row for row in json.loads(out)}


def _cp1250(path: Path, rows: list[tuple[str, ...]]) -> Path:
    path.write_bytes(("\r\n".join(";".join(r) for r in rows) + "\r\n").encode("cp1250"))
    return path


@pytest.fixture
def hungarian(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "rendelesek.toml"
    mapping.write_text(HU_MAPPING, "utf-8")
    return _cp1250(tmp_path / "rendelesek.csv", HU_ROWS), mapping


def test_a_hungarian_export_scores_as_the_same_plain_transactions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hungarian: tuple[Path, Path]
) -> None:
    export, mapping = hungarian
    rows = analysed(capsys, str(export), "--mapping", str(mapping))
    plain = tmp_path / "plain.csv"
    plain.write_text(PLAIN, "utf-8")
    expected = analysed(
        capsys, str(plain), "--customer-col", "cust", "--date-col", "day", "--amount-col", "amount"
    )
    assert rows == expected
    # Exact money: 12 990 + 1 234,50 Ft, a returned order of 234,50 Ft, cancelled and
    # pending orders left out; the Hungarian letter of Ő-003 came through the code page.
    assert rows["V-001"]["revenue_minor"] == 1_422_450
    assert rows["V-001"]["returns_minor"] == 23_450
    assert (rows["V-001"]["occasions"], rows["V-001"]["last_purchase"]) == (2, "2025-03-14")
    assert rows["Ő-003"]["revenue_minor"] == 250_000 and rows["Ő-003"]["occasions"] == 1
    assert (rows["V-004"]["rung"], rows["V-004"]["category"]) == (5, "loyal")
    assert rows["V-002"]["category"] == "lost"


def test_a_polish_export_with_the_columns_on_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    export = _cp1250(
        tmp_path / "zamówienia.csv",
        [
            ("Klient", "Data zamówienia", "Kwota"),
            ("Łukasz", "14.03.2025", "1 234,50 zł"),
            ("Łukasz", "02.04.2025", "99,99 zł"),
            ("Żaneta", "01.04.2025", "-10,00 zł"),
            ("Żaneta", "20.03.2025", "50 zł"),
        ],
    )
    mapping = tmp_path / "pl.toml"
    mapping.write_text(
        '[format]\ndecimal = ","\ndate_order = "dmy"\n\n[file]\nencoding = "cp1250"\n'
        'delimiter = ";"\n',
        "utf-8",
    )
    rows = analysed(
        capsys,
        str(export),
        "--mapping",
        str(mapping),
        "--customer-col",
        "Klient",
        "--date-col",
        "Data zamówienia",
        "--amount-col",
        "Kwota",
        "--as-of",
        "2025-04-30",
    )
    assert rows["Łukasz"]["revenue_minor"] == 133_449
    assert (rows["Łukasz"]["first_purchase"], rows["Łukasz"]["occasions"]) == ("2025-03-14", 2)
    assert rows["Żaneta"]["returns_minor"] == 1_000
    assert rows["Żaneta"]["days_since_last"] == 41


def test_rows_that_cannot_be_read_are_named_and_nothing_is_analysed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hungarian: tuple[Path, Path]
) -> None:
    _, mapping = hungarian
    export = _cp1250(
        tmp_path / "hibas.csv",
        [
            *HU_ROWS,
            ("R-12", "V-009", "2025.13.01.", "Teljesítve", "1 000"),
            ("R-13", "V-010", "2025.01.01.", "Teljesítve", "12,345"),
            ("R-14", "", "2025.01.01.", "Teljesítve", "1"),
            ("R-15", "V-011", "2025.01.01.", "Elveszett", "1"),
        ],
    )
    code, out, err = cli(capsys, "analyze", str(export), "--mapping", str(mapping))
    assert (code, out) == (65, "")
    message = " ".join(err.split())
    assert "hibas.csv: 4 rows cannot be read, so nothing was analysed" in message
    assert "row 13, column 'Dátum': '2025.13.01.': not a valid date" in message
    assert "row 14, column 'Végösszeg': '12,345': not an amount (decimal comma" in message
    assert "row 15, column 'Vevőkód': required value missing" in message
    assert "row 16, column 'Állapot': 'Elveszett': not one of: pending, completed" in message
    hungarian_text = cli(capsys, "analyze", str(export), "--mapping", str(mapping), "--lang", "hu")
    assert "hiányzik a kötelező érték" in hungarian_text[2]


def test_mistakes_in_the_mapping_or_the_options_are_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hungarian: tuple[Path, Path]
) -> None:
    export, _ = hungarian
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[columns]\ncustomer = "Vevő"\nordered_at = "Dátum"\n', "utf-8")
    code, _, err = cli(capsys, "analyze", str(export), "--mapping", str(wrong))
    assert code == 65
    assert "column 'Vevő', which rendelesek.csv does not have" in " ".join(err.split())
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[columns]\namount = "Végösszeg"\n', "utf-8")
    code, _, err = cli(capsys, "analyze", str(export), "--mapping", str(unknown))
    assert code == 65 and "unknown field amount" in err
    code, _, err = cli(capsys, "analyze", str(export), "--mapping", str(tmp_path / "none.toml"))
    assert code == 65 and "does not exist" in err
    code, _, err = cli(capsys, "analyze", str(export))
    assert code == 65 and "--customer-col, --date-col and --amount-col" in " ".join(err.split())


def _many_customers(path: Path) -> dict[str, list[tuple[date, int]]]:
    """A Hungarian export of 400 customers who buy and drop out as BG/NBD assumes: a
    Gamma-distributed rate of purchase each, and after every purchase a Beta-distributed
    chance of leaving for good (deterministic)."""
    rng = random.Random(7)
    bought: dict[str, list[tuple[date, int]]] = {}
    rows = [("Vevőkód", "Dátum", "Végösszeg")]
    for n in range(400):
        customer = f"Ü-{n:03d}"
        rate = rng.gammavariate(2.0, 0.01)  # purchases per day
        leave = rng.betavariate(1.0, 3.0)
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(365))
        spend = rng.uniform(2_000, 40_000)
        while day <= date(2025, 6, 30):
            minor = max(100, int(rng.gauss(spend, spend / 4)))
            bought.setdefault(customer, []).append((day, minor))
            text = f"{minor // 100:,}".replace(",", " ") + f",{minor % 100:02d}"
            rows.append((customer, day.strftime("%Y.%m.%d."), text))
            if rng.random() < leave:
                break
            day += timedelta(days=1 + int(rng.expovariate(rate)))
    _cp1250(path, rows)
    return bought


def test_clv_and_p_alive_come_from_the_fitted_models(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bought = _many_customers(tmp_path / "sok.csv")
    mapping = tmp_path / "sok.toml"
    mapping.write_text(
        '[columns]\ncustomer = "Vevőkód"\nordered_at = "Dátum"\ntotal = "Végösszeg"\n\n'
        '[format]\ndecimal = ","\n',
        "utf-8",
    )
    as_of = date(2025, 6, 30)
    args = [str(tmp_path / "sok.csv"), "--mapping", str(mapping), "--as-of", as_of.isoformat()]
    result = tmp_path / "result.json"
    code, out, err = cli(capsys, "analyze", *args, "-f", "json", "--out", str(result))
    assert code == 0, err
    assert "400 customers as of 2025-06-30; lifetime value: bgnbd fitted on 400 buyers" in (
        " ".join(err.split())
    )
    rows = {row["customer_id"]: row for row in json.loads(result.read_text("utf-8"))}
    # The same summary built by hand, and the same models: the same P(alive) and CLV.
    ids = sorted(bought)
    summary = pa.table(
        {
            "customer_id": list(range(len(ids))),
            "x": [len({d for d, _ in bought[c]}) - 1 for c in ids],
            "t_x_days": [(max(bought[c])[0] - min(bought[c])[0]).days for c in ids],
            "T_days": [(as_of - min(bought[c])[0]).days for c in ids],
            "repeat_revenue_minor": [sum(m for _, m in bought[c][1:]) for c in ids],
            "revenue_minor": [sum(m for _, m in bought[c]) for c in ids],
        }
    )
    expected = lifetime_values(summary, default_policy().lifetime, margin=1.0).table
    assert expected is not None
    for i, customer in enumerate(ids):
        row = rows[customer]
        assert row["revenue_minor"] == summary["revenue_minor"][i].as_py()
        assert row["p_alive"] == pytest.approx(expected["p_alive"][i].as_py(), rel=1e-9)
        assert row["clv_minor"] == expected["clv_minor"][i].as_py()
        assert row["expected_purchases_12m"] == pytest.approx(
            expected["expected_purchases_12m"][i].as_py(), rel=1e-9
        )
    # P(alive) feeds the lost category, as in a score run: under the policy's minimum
    # (0.2) a customer is lost whatever their rhythm says.
    unlikely = [r for r in rows.values() if r["p_alive"] is not None and r["p_alive"] < 0.2]
    assert unlikely and all(r["category"] == "lost" for r in unlikely)
    strict = tmp_path / "strict.toml"
    strict.write_text("[activity]\np_alive_min = 0.9\n", "utf-8")
    code, out, err = cli(capsys, "analyze", *args, "-f", "json", "--policy", str(strict))
    assert code == 0, err
    by_p_alive = [r for r in json.loads(out) if r["category_reason"] == "lost.p_alive"]
    assert by_p_alive and all(r["p_alive"] < 0.9 for r in by_p_alive)
    assert all(rows[r["customer_id"]]["category"] != "lost" for r in by_p_alive)
    # A margin scales the CLV.
    code, out, err = cli(capsys, "analyze", *args, "-f", "json", "--margin", "0.25")
    assert code == 0, err
    halved = {row["customer_id"]: row["clv_minor"] for row in json.loads(out)}
    some = ids[0]
    assert halved[some] == pytest.approx(rows[some]["clv_minor"] * 0.25, abs=1)
