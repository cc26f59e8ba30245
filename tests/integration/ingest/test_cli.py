"""``clientbase import`` as a user runs it: its output, its report and its exit code.

Most tests call the CLI's entry point in-process (starting the whole application in a new
interpreter is slow on a loaded machine); one runs it as a real process.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clientbase.cli.app import main


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert cli(capsys, "init", "--db", url)[0] == 0
    return url


def test_import_prints_the_summary(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.csv"
    users.write_text("username,display_name,role\nanna,Anna Kovács,manager\n", encoding="utf-8")
    code, out, _ = cli(capsys, "import", "users", str(users), "--db", db)
    assert code == 0
    assert "1 rows in users.csv: 1 imported, 0 updated, 0 unchanged, 0 rejected." in out
    code, out, _ = cli(capsys, "--db", db, "import", "users", str(users))
    assert code == 0
    assert "0 imported, 0 updated, 1 unchanged, 0 rejected" in out


def test_rejected_import_exits_65_with_a_table_a_report_and_one_error_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "external_id,customer,ordered_at,total\nO1,C404,2024-03-15,10\nO2,C404,2024-02-30,x\n",
        encoding="utf-8",
    )
    report = tmp_path / "rejects.csv"
    code, _, err = cli(capsys, "import", "orders", str(orders), "--report", str(report), "--db", db)
    assert code == 65
    assert "Traceback" not in err
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "2 of 2 rows of orders.csv were rejected; nothing was imported" in error_lines[0]
    assert "2024-02-30" in err  # the table on screen
    assert "would be imported" in err
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["row"], r["column"], r["value"]) for r in rows} == {
        ("2", "customer", "C404"),
        ("3", "ordered_at", "2024-02-30"),
        ("3", "total", "x"),
    }
    assert all(r["file"] == "orders.csv" for r in rows)
    assert list(rows[0]) == ["file", "row", "column", "value", "reason", "severity", "code"]
    by_cell = {(r["row"], r["column"]): (r["code"], r["reason"]) for r in rows}
    assert by_cell[("3", "ordered_at")] == (
        "date_invalid",
        "not a valid date or date-time (expected e.g. 2024-03-15, 2024-03-15 14:30, 2024.03.15.)",
    )
    assert by_cell[("2", "customer")][0] == "reference_unknown"


@pytest.mark.parametrize(
    ("language", "date_reason", "reference_reason"),
    [
        (
            "hu",
            "nem érvényes dátum vagy időpont (várt formátum, pl. 2024-03-15, "
            "2024-03-15 14:30, 2024.03.15.)",
            "ismeretlen ügyfél: nincs sem az adatbázisban, sem a fájl elfogadott sorai között",
        ),
        (
            "pl",
            "nieprawidłowa data lub data z godziną (oczekiwany format, np. 2024-03-15, "
            "2024-03-15 14:30, 2024.03.15.)",
            "nieznany klient: brak w bazie i wśród zaakceptowanych wierszy tego pliku",
        ),
    ],
)
def test_rejections_are_written_in_the_language_asked_for(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    language: str,
    date_reason: str,
    reference_reason: str,
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "external_id,customer,ordered_at,total\nO1,C404,2024-03-15,10\nO2,C404,2024-02-30,10\n",
        encoding="utf-8",
    )
    report = tmp_path / "rejects.csv"
    code, _, err = cli(
        capsys,
        "import",
        "orders",
        str(orders),
        "--lang",
        language,
        "--report",
        str(report),
        "--db",
        db,
    )
    assert code == 65
    assert "date_invalid" in err  # the code column on screen
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_cell = {(r["row"], r["column"]): (r["code"], r["reason"]) for r in rows}
    assert by_cell[("3", "ordered_at")] == ("date_invalid", date_reason)
    assert by_cell[("2", "customer")] == ("reference_unknown", reference_reason)


def test_an_unknown_language_exits_65(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.csv"
    users.write_text("username,display_name,role\nanna,Anna,admin\n", encoding="utf-8")
    code, _, err = cli(capsys, "import", "users", str(users), "--language", "de", "--db", db)
    assert code == 65
    assert "no import texts in 'de'" in err


def test_screen_lists_the_first_rows_and_counts_the_rest(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "orders.csv"
    lines = "".join(f"O{i},C1,2024-03-15,x{i}\n" for i in range(30))
    orders.write_text("external_id,customer,ordered_at,total\n" + lines, encoding="utf-8")
    code, _, err = cli(capsys, "import", "orders", str(orders), "--show", "5", "--db", db)
    assert code == 65
    assert "x4" in err
    assert "x5" not in err
    assert "and 25 more" in err


def test_missing_file_unknown_kind_and_bad_mapping_exit_65(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "import", "orders", str(tmp_path / "nope.csv"), "--db", db)
    assert (code, "does not exist" in err) == (65, True)
    code, _, err = cli(capsys, "import", "wishes", str(tmp_path / "nope.csv"), "--db", db)
    assert (code, "unknown import kind" in err) == (65, True)
    orders = tmp_path / "orders.csv"
    orders.write_text("id,total\n1,2\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nexternal_id = "Kód"\n', encoding="utf-8")
    code, _, err = cli(capsys, "import", "orders", str(orders), "-m", str(mapping), "--db", db)
    assert (code, "does not have" in err) == (65, True)


def test_a_real_process_exits_65_with_one_error_line(tmp_path: Path) -> None:
    env = {**os.environ, "CLIENTBASE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("CLIENTBASE_DB", None)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "external_id,customer,ordered_at,total\nO1,C1,2024-02-30,1\n", encoding="utf-8"
    )
    script = (
        "from clientbase.cli.app import main; import sys; "
        "main(['init']) if sys.argv[1] == 'init' else main(sys.argv[1:])"
    )
    subprocess.run([sys.executable, "-c", script, "init"], env=env, check=False, timeout=300)
    result = subprocess.run(
        [sys.executable, "-m", "clientbase", "import", "orders", str(orders)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 65, result.stderr
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        "error: 1 of 1 rows of orders.csv were rejected; nothing was imported (fix the rows "
        "listed (--report FILE writes them all) and import again)"
    ]


def test_partial_import_exits_0_and_lists_the_rejected_rows(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.csv"
    users.write_text(
        "username,display_name,role\nanna,Anna,manager\nbela,Béla,boss\n", encoding="utf-8"
    )
    code, out, err = cli(capsys, "import", "users", str(users), "--partial", "--db", db)
    assert code == 0
    assert "boss" in err
    assert "2 rows in users.csv: 1 imported, 0 updated, 0 unchanged, 1 rejected." in out
