"""The import use case against a real store: SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from clientbase.errors import ImportRejected, MappingError
from clientbase.ingest.report import ImportReport
from clientbase.security.actor import Actor
from clientbase.services.imports import import_file
from clientbase.storage import bulk
from clientbase.storage.orm import (
    AuditEntry,
    Base,
    CampaignMember,
    Customer,
    Event,
    ImportBatch,
    Order,
    OrderLine,
    User,
)

ACTOR = Actor.local_operator()

FILES = {
    "users": (
        "username,display_name,role,manager\n"
        "anna,Anna Kovács,manager,\n"
        "bela,Béla Nagy,representative,anna\n"
    ),
    "partners": "external_id,name,country\nPA1,Borház Kft.,hu\n",
    "customers": (
        "external_id;name;email;city;owner;referred_by;referred_by_partner;acquisition_channel;interests\n"
        "C1;Kovács Ödön;odon@example.hu;Győr;bela;;;targeted ads;sport|bor\n"
        "C2;Łukasz Źdźbło;lukasz@example.pl;Łódź;anna;C1;;referral;\n"
        "C3;Szőke Tünde;;Pécs;;;PA1;partner;\n"
    ),
    "products": (
        "external_id,name,category,price,unit_cost\n"
        "P1,Bögre,konyha,2990,1200\n"
        "P2,Tál,konyha,4990.50,\n"
    ),
    "campaigns": (
        "external_id,name,channel,cost,starts_on,partner,owner\n"
        "K1,Tavaszi akció,email,50000,2024.03.01.,PA1,anna\n"
    ),
    "orders": (
        "external_id,customer,ordered_at,status,total,discount,handled_by,campaign\n"
        "O1,C1,2024-03-15 10:00:00,completed,7980,0,bela,K1\n"
        "O2,C2,2024-03-16,cancelled,4990.50,500,,\n"
    ),
    "order-lines": (
        "order,line_no,product,quantity,unit_price,unit_cost\n"
        "O1,1,P1,2,2990,1200\n"
        "O1,2,P2,1,4990.50,\n"
        "O2,1,P2,1,4990.50,\n"
    ),
    "events": (
        "external_id,customer,occurred_at,kind,amount,cost,rating,handled_by,campaign,order,related_customer\n"
        "E1,C1,2024-03-20,complaint,,1500,,bela,,O1,\n"
        "E2,C1,2024-03-21,nps,,,10,,,,\n"
        "E3,C1,2024-03-22,referral,,,,,,,C2\n"
    ),
    "campaign-members": (
        "campaign,customer,arm,contacted_at,responded_at\n"
        "K1,C1,treatment,2024-03-02,2024-03-05\n"
        "K1,C2,control,,\n"
    ),
}

ORDER = list(FILES)


def _file(tmp_path: Path, kind: str, content: str | None = None) -> Path:
    path = tmp_path / f"{kind}.csv"
    path.write_text(FILES[kind] if content is None else content, encoding="utf-8")
    return path


def _count(engine: Engine, table: type[Base]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
            for t in Base.metadata.sorted_tables
        }


def _identity(report: ImportReport) -> None:
    c = report.counts
    assert c.rows == c.imported + c.updated + c.unchanged + c.rejected


def _load_all(engine: Engine, tmp_path: Path) -> dict[str, ImportReport]:
    reports = {}
    for kind in ORDER:
        reports[kind] = import_file(engine, ACTOR, kind, _file(tmp_path, kind))
        _identity(reports[kind])
    return reports


def test_every_kind_imports_and_references_resolve(engine: Engine, tmp_path: Path) -> None:
    reports = _load_all(engine, tmp_path)
    assert {k: r.imported for k, r in reports.items()} == {
        "users": 2,
        "partners": 1,
        "customers": 3,
        "products": 2,
        "campaigns": 1,
        "orders": 2,
        "order-lines": 3,
        "events": 3,
        "campaign-members": 2,
    }
    with engine.connect() as conn:
        customers = {
            r.name: r
            for r in conn.execute(
                select(
                    Customer.id,
                    Customer.name,
                    Customer.city,
                    Customer.owner_id,
                    Customer.referred_by_customer_id,
                    Customer.interests,
                    Customer.acquisition_channel,
                )
            )
        }
        users = dict(conn.execute(select(User.username, User.id)).all())
        manager = conn.execute(select(User.manager_id).where(User.username == "bela")).scalar_one()
        orders = {r.external_id: r for r in conn.execute(select(Order))}
        lines = conn.execute(
            select(func.sum(OrderLine.quantity * OrderLine.unit_price_minor))
        ).scalar_one()
        members = conn.execute(select(func.count()).select_from(CampaignMember)).scalar_one()
        referral = conn.execute(
            select(Event.related_customer_id).where(Event.external_id == "E3")
        ).scalar_one()
    assert manager == users["anna"]
    assert customers["Łukasz Źdźbło"].city == "Łódź"
    assert customers["Łukasz Źdźbło"].referred_by_customer_id == customers["Kovács Ödön"].id
    assert customers["Kovács Ödön"].owner_id == users["bela"]
    assert customers["Kovács Ödön"].interests == ["sport", "bor"]
    assert customers["Kovács Ödön"].acquisition_channel == "targeted_ads"
    assert orders["O1"].total_minor == 798_000
    assert orders["O2"].total_minor == 499_050
    assert orders["O2"].discount_minor == 50_000
    assert orders["O1"].handled_by_id == users["bela"]
    assert lines == 2 * 299_000 + 499_050 + 499_050
    assert members == 2
    assert referral == customers["Łukasz Źdźbło"].id


def test_importing_the_same_files_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    _load_all(engine, tmp_path)
    before = _snapshot(engine)
    for kind in ORDER:
        report = import_file(engine, ACTOR, kind, _file(tmp_path, kind))
        _identity(report)
        assert report.imported == report.updated == report.rejected == 0, kind
        assert report.unchanged == report.rows, kind
    after = _snapshot(engine)
    for table in before:
        if table in {"import_batches", "audit_log"}:
            continue
        assert after[table] == before[table], table
    assert _count(engine, ImportBatch) == 2 * len(ORDER)


def test_changed_rows_are_updated(engine: Engine, tmp_path: Path) -> None:
    _load_all(engine, tmp_path)
    changed = FILES["orders"].replace(
        "O2,C2,2024-03-16,cancelled,4990.50", "O2,C2,2024-03-16,completed,4990.50"
    )
    changed += "O3,C3,2024-03-18,completed,100,0,,\n"
    report = import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", changed))
    assert (report.imported, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 0)
    with engine.connect() as conn:
        status = conn.execute(select(Order.status).where(Order.external_id == "O2")).scalar_one()
    assert status == "completed"


def test_unknown_reference_rejects_the_whole_file_and_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    import_file(
        engine,
        ACTOR,
        "customers",
        _file(tmp_path, "customers", "external_id,name\nC1,Anna\nC2,Béla\nC3,Cecília\n"),
    )
    before = _snapshot(engine)
    content = (
        FILES["orders"]
        + "O3,C404,2024-03-18,completed,100,0,,\nO4,C1,2024-02-30,completed,100,0,,\n"
    )
    content = content.replace(",bela,K1", ",,")
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", content))
    report = caught.value.report
    assert isinstance(report, ImportReport)
    assert not report.committed
    _identity(report)
    assert report.rows == 4
    assert report.rejected == 2
    assert report.errors.select("row", "column", "value").sort("row").rows() == [
        (4, "customer", "C404"),
        (5, "ordered_at", "2024-02-30"),
    ]
    assert "C404" not in str(caught.value)
    assert _snapshot(engine) == before


def test_duplicate_id_in_the_file_rejects_it(engine: Engine, tmp_path: Path) -> None:
    content = FILES["products"] + "P1,Bögre again,konyha,10,\n"
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, ACTOR, "products", _file(tmp_path, "products", content))
    report = caught.value.report
    assert isinstance(report, ImportReport)
    assert report.errors.select("row", "column", "value").rows() == [(4, "external_id", "P1")]
    assert (report.imported, report.rejected, report.rows) == (2, 1, 3)
    assert _count(engine, ImportBatch) == 0


def test_customer_with_an_email_already_stored_is_a_possible_duplicate(
    engine: Engine, tmp_path: Path
) -> None:
    import_file(engine, ACTOR, "users", _file(tmp_path, "users"))
    import_file(engine, ACTOR, "partners", _file(tmp_path, "partners"))
    import_file(engine, ACTOR, "customers", _file(tmp_path, "customers"))
    content = "external_id,name,email\nC9,Ödön K.,ODON@example.hu\n"
    report = import_file(engine, ACTOR, "customers", _file(tmp_path, "more", content))
    assert report.imported == 1
    assert report.warnings.select("row", "column", "value").rows() == [
        (2, "email", "ODON@example.hu")
    ]
    assert report.warnings.get_column("code")[0] == "email_duplicate_in_store"
    assert "C1" in report.warnings.get_column("figures")[0]


def test_batch_and_audit_entry_are_recorded(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, ACTOR, "users", _file(tmp_path, "users"))
    with engine.connect() as conn:
        batch = conn.execute(select(ImportBatch)).one()
        audit = conn.execute(select(AuditEntry)).one()
    assert batch.kind == "users"
    assert batch.file_name == "users.csv"
    assert batch.counts == {"rows": 2, "imported": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert batch.finished_at is not None
    assert len(batch.file_sha256) == 64
    assert audit.action == "import"
    assert audit.entity_id == str(batch.id)
    assert audit.detail["imported"] == 2
    assert "Anna" not in repr(audit.detail)


def test_header_only_file_imports_nothing(engine: Engine, tmp_path: Path) -> None:
    report = import_file(
        engine,
        ACTOR,
        "orders",
        _file(tmp_path, "orders", "external_id,customer,ordered_at,total\n"),
    )
    assert report.committed
    assert report.counts.as_dict() == {
        "rows": 0,
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }


def test_hungarian_export_with_a_mapping_file(engine: Engine, tmp_path: Path) -> None:
    mapping = tmp_path / "webshop.toml"
    mapping.write_text(
        """
source = "webshop"

[columns]
external_id = "Vevőkód"
name = "Név"
email = "E-mail"
city = "Település"
acquired_at = "Regisztráció"

[constants]
acquisition_channel = "organic"
country = "HU"
""",
        encoding="utf-8",
    )
    customers = tmp_path / "vevok.csv"
    customers.write_bytes(
        (
            "Vevőkód;Név;E-mail;Település;Regisztráció\n"
            "V-001;Őri Árpád;arpad@example.hu;Hódmezővásárhely;2023.11.05.\n"
        ).encode("cp1250")
    )
    orders_mapping = tmp_path / "rendelesek.toml"
    orders_mapping.write_text(
        """
source = "webshop"
[columns]
external_id = "Rendelésszám"
customer = "Vevőkód"
ordered_at = "Dátum"
status = "Állapot"
total = "Végösszeg"
[format]
decimal = ","
[values.status]
"Teljesítve" = "completed"
"Törölve" = "cancelled"
""",
        encoding="utf-8",
    )
    orders = tmp_path / "rendelesek.csv"
    orders.write_bytes(
        (
            "Rendelésszám;Vevőkód;Dátum;Állapot;Végösszeg\n"
            "R-1;V-001;2024.03.15.;Teljesítve;12 990 Ft\n"
            'R-2;V-001;2024.03.16.;Törölve;"1 234,50 Ft"\n'
        ).encode("iso-8859-2")
    )
    assert import_file(engine, ACTOR, "customers", customers, mapping_path=mapping).imported == 1
    report = import_file(engine, ACTOR, "orders", orders, mapping_path=orders_mapping)
    assert report.imported == 2
    with engine.connect() as conn:
        name, city, country = conn.execute(
            select(Customer.name, Customer.city, Customer.country)
        ).one()
        totals = conn.execute(
            select(Order.status, Order.total_minor, Order.source).order_by(Order.external_id)
        ).all()
    assert (name, city, country) == ("Őri Árpád", "Hódmezővásárhely", "HU")
    assert [tuple(t) for t in totals] == [
        ("completed", 1_299_000, "webshop"),
        ("cancelled", 123_450, "webshop"),
    ]


def test_mapping_error_is_raised_before_anything_is_written(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(MappingError):
        import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", "id,total\n1,2\n"))
    assert _count(engine, ImportBatch) == 0


def test_large_load_rebuilds_indexes_and_keeps_them(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "DEFER_INDEXES_ROWS", 10)
    import_file(engine, ACTOR, "customers", _file(tmp_path, "customers", "external_id\nC1\nC2\n"))
    rows = "".join(f"O{i},C{1 + i % 2},2024-01-01,{i}\n" for i in range(500))
    report = import_file(
        engine,
        ACTOR,
        "orders",
        _file(tmp_path, "orders", "external_id,customer,ordered_at,total\n" + rows),
    )
    assert report.imported == 500
    assert _count(engine, Order) == 500
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            names = (
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='orders'")
                )
                .scalars()
                .all()
            )
        assert "ix_orders_customer_id_ordered_at" in names


def test_updating_a_customer_stamps_updated_at(engine: Engine, tmp_path: Path) -> None:
    first = _file(tmp_path, "customers", "external_id,name,city\nC1,Anna,Győr\nC2,Béla,Pécs\n")
    import_file(engine, ACTOR, "customers", first)
    with engine.connect() as conn:
        before = dict(conn.execute(select(Customer.name, Customer.updated_at)).all())
    second = _file(tmp_path, "customers", "external_id,name,city\nC1,Anna,Szeged\nC2,Béla,Pécs\n")
    report = import_file(engine, ACTOR, "customers", second)
    assert (report.updated, report.unchanged) == (1, 1)
    with engine.connect() as conn:
        after = {
            r.name: r
            for r in conn.execute(select(Customer.name, Customer.city, Customer.updated_at))
        }
    assert after["Anna"].city == "Szeged"
    assert after["Anna"].updated_at > before["Anna"]
    assert after["Béla"].updated_at == before["Béla"]


def test_partial_import_writes_the_valid_rows_and_reports_the_others(
    engine: Engine, tmp_path: Path
) -> None:
    import_file(engine, ACTOR, "customers", _file(tmp_path, "customers", "external_id\nC1\n"))
    content = (
        "external_id,customer,ordered_at,total\n"
        "O1,C1,2024-03-15,10\nO2,C404,2024-03-15,10\nO3,C1,2024-02-30,10\nO4,C1,2024-03-16,20\n"
    )
    report = import_file(engine, ACTOR, "orders", _file(tmp_path, "orders", content), partial=True)
    assert report.committed
    _identity(report)
    assert (report.imported, report.rejected) == (2, 2)
    assert sorted(report.errors.get_column("row").to_list()) == [3, 4]
    with engine.connect() as conn:
        stored = conn.execute(select(Order.external_id).order_by(Order.external_id)).scalars().all()
        batch = conn.execute(
            select(ImportBatch.counts).where(ImportBatch.kind == "orders")
        ).scalar_one()
    assert stored == ["O1", "O4"]
    assert batch["rejected"] == 2
