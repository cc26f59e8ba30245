"""Who may import: administrators anything; managers their team's customers, orders and
events, row by row; analysts and representatives nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from clientbase.domain.vocabulary import Role
from clientbase.errors import PermissionDenied
from clientbase.ingest.report import ImportReport
from clientbase.security.actor import Actor
from clientbase.services.imports import import_file
from clientbase.storage.orm import AuditEntry, Customer


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REPRESENTATIVE])
def test_other_roles_are_refused_and_nothing_is_written(
    engine: Engine, tmp_path: Path, role: Role
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("external_id,name\nC-1,Anna\nC-2,Béla\n", encoding="utf-8")
    with pytest.raises(PermissionDenied, match=r"imports\.run"):
        import_file(engine, Actor(user_id=None, username="someone", role=role), "customers", path)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_an_administrator_imports(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("external_id,name\nC-1,Anna\nC-2,Béla\n", encoding="utf-8")
    report = import_file(
        engine, Actor(user_id=None, username="boss", role=Role.ADMIN), "customers", path
    )
    assert report.imported == 2


def test_an_upload_is_committed_only_by_the_admin_who_staged_it(
    engine: Engine, tmp_path: Path
) -> None:
    import io

    from clientbase.config import get_settings
    from clientbase.errors import NotFound
    from clientbase.services.import_uploads import commit_import, upload_import
    from clientbase.storage.orm import User
    from clientbase.storage.unit_of_work import UnitOfWork

    settings = get_settings(home=tmp_path / "home")
    with UnitOfWork(engine) as uow:
        other = User(username="other-boss", display_name="Other", role="admin")
        uow.session.add(other)
        uow.session.flush()
        other_id = other.id
        uow.commit()
    first = Actor(user_id=None, username="boss", role=Role.ADMIN)
    second = Actor(user_id=other_id, username="other-boss", role=Role.ADMIN)
    staged = upload_import(
        engine, settings, first, "customers", "c.csv", io.BytesIO(b"external_id,name\nC-1,Anna\n")
    )
    with pytest.raises(NotFound):
        commit_import(engine, settings, second, staged.upload_id)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 0
    done = commit_import(engine, settings, first, staged.upload_id)
    assert done.committed


# --- A manager's imports, scoped to their team ------------------------------------------


@pytest.fixture
def teams(engine: Engine, tmp_path: Path) -> dict[str, Actor]:
    """A manager with a representative, an outsider representative and a second manager;
    customers C-M (the manager's), C-R (the representative's), C-O (the outsider's), each
    with an order and an event, imported by an administrator."""
    from clientbase.services.users import add_user

    op = Actor.local_operator()
    actors: dict[str, Actor] = {}
    for name, role, manager in (
        ("boss", Role.MANAGER, None),
        ("rep", Role.REPRESENTATIVE, "boss"),
        ("outsider", Role.REPRESENTATIVE, None),
        ("rival", Role.MANAGER, None),
    ):
        user = add_user(engine, op, username=name, display_name=name, role=role, manager=manager)
        actors[name] = Actor(user_id=user.id, username=name, role=role)
    _import(
        engine,
        op,
        tmp_path,
        "customers",
        "external_id,name,owner\nC-M,Mária,boss\nC-R,Róbert,rep\nC-O,Olga,outsider\n",
    )
    _import(
        engine,
        op,
        tmp_path,
        "orders",
        "external_id,customer,ordered_at,total\n"
        "O-M,C-M,2026-01-02,100\nO-R,C-R,2026-01-03,200\nO-O,C-O,2026-01-04,300\n",
    )
    _import(
        engine,
        op,
        tmp_path,
        "events",
        "external_id,customer,occurred_at,kind\n"
        "E-R,C-R,2026-02-01,complaint\nE-O,C-O,2026-02-02,complaint\n",
    )
    return actors


def _import(engine: Engine, actor: Actor, tmp_path: Path, kind: str, text: str) -> ImportReport:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return import_file(engine, actor, kind, path)


def _snapshot(engine: Engine) -> list[tuple[object, ...]]:
    from clientbase.storage.orm import Event, Order

    with engine.connect() as conn:
        rows: list[tuple[object, ...]] = []
        for table in (Customer, Order, Event):
            rows += [tuple(r) for r in conn.execute(select(table.__table__)).all()]
    return sorted(rows, key=repr)


def _owners(engine: Engine) -> dict[str, str | None]:
    from clientbase.storage.orm import CustomerExternalId, User

    with engine.connect() as conn:
        rows = conn.execute(
            select(CustomerExternalId.external_id, User.username)
            .join(Customer, Customer.id == CustomerExternalId.customer_id)
            .outerjoin(User, User.id == Customer.owner_id)
        ).all()
    return {str(external): owner for external, owner in rows}


def test_a_manager_imports_customers_for_the_team(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor]
) -> None:
    report = _import(
        engine,
        teams["boss"],
        tmp_path,
        "customers",
        "external_id,name,owner\nC-NEW,Nóra,\nC-REP,Rita,rep\nC-R,Róbert Kovács,\n",
    )
    assert (report.imported, report.updated, report.rejected) == (2, 1, 0)
    owners = _owners(engine)
    assert owners["C-NEW"] == "boss"  # nobody named: the manager
    assert owners["C-REP"] == "rep"  # a member of the team named
    assert owners["C-R"] == "rep"  # an update keeps the customer's owner
    assert owners["C-O"] == "outsider"
    with engine.connect() as conn:
        detail = conn.execute(
            select(AuditEntry.detail)
            .where(AuditEntry.action == "import")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert detail is not None and detail[0]["scope"] == "team"


def test_without_an_owner_column_new_customers_are_the_managers(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor]
) -> None:
    _import(engine, teams["boss"], tmp_path, "customers", "external_id,name\nC-X,Xénia\nC-R,R\n")
    owners = _owners(engine)
    assert (owners["C-X"], owners["C-R"]) == ("boss", "rep")


def test_a_managers_import_touching_another_teams_customer_is_refused_with_the_row(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor]
) -> None:
    from clientbase.errors import ImportRejected

    before = _snapshot(engine)
    with pytest.raises(ImportRejected) as refused:
        _import(
            engine,
            teams["boss"],
            tmp_path,
            "customers",
            "external_id,name,owner\n"
            "C-NEW,Nóra,\n"  # row 2: fine
            "C-O,Olga Nagy,\n"  # row 3: the outsider's customer
            "C-NEW2,Nándor,outsider\n",  # row 4: an owner outside the team
        )
    report = refused.value.report
    assert isinstance(report, ImportReport)
    errors = report.sorted_errors()
    assert errors.select("row", "column", "value", "code").rows() == [
        (3, "external_id", "C-O", "customer_outside_team"),
        (4, "owner", "outsider", "owner_outside_team"),
    ]
    assert report.rejected == 2 and not report.committed
    assert _snapshot(engine) == before, "all or nothing: the good row was not written either"


@pytest.mark.parametrize(
    ("kind", "text", "row", "column", "value"),
    [
        (
            "orders",
            "external_id,customer,ordered_at,total\nO-1,C-R,2026-03-01,10\nO-2,C-O,2026-03-01,10\n",
            3,
            "customer",
            "C-O",
        ),
        (
            # Re-pointing another team's order at one's own customer does not take it over.
            "orders",
            "external_id,customer,ordered_at,total\nO-O,C-R,2026-01-04,300\n",
            2,
            "external_id",
            "O-O",
        ),
        (
            "events",
            "external_id,customer,occurred_at,kind\nE-1,C-M,2026-03-01,enquiry\n"
            "E-2,C-R,2026-03-02,enquiry\nE-3,C-O,2026-03-03,enquiry\n",
            4,
            "customer",
            "C-O",
        ),
        (
            "events",
            "external_id,customer,occurred_at,kind,related_customer\n"
            "E-1,C-R,2026-03-01,referral,C-O\n",
            2,
            "related_customer",
            "C-O",
        ),
        (
            "events",
            "external_id,customer,occurred_at,kind\nE-O,C-M,2026-02-02,complaint\n",
            2,
            "external_id",
            "E-O",
        ),
        (
            "events",
            "external_id,customer,occurred_at,kind,order\nE-1,C-R,2026-03-01,complaint,O-O\n",
            2,
            "order",
            "O-O",
        ),
    ],
)
def test_orders_and_events_of_other_teams_customers_are_refused(
    engine: Engine,
    tmp_path: Path,
    teams: dict[str, Actor],
    kind: str,
    text: str,
    row: int,
    column: str,
    value: str,
) -> None:
    from clientbase.errors import ImportRejected

    before = _snapshot(engine)
    with pytest.raises(ImportRejected) as refused:
        _import(engine, teams["boss"], tmp_path, kind, text)
    report = refused.value.report
    assert isinstance(report, ImportReport)
    assert report.errors.select("row", "column", "value", "code").rows() == [
        (row, column, value, "customer_outside_team")
    ]
    assert _snapshot(engine) == before


def test_the_same_rows_are_the_other_managers_to_refuse(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor]
) -> None:
    from clientbase.errors import ImportRejected

    orders = "external_id,customer,ordered_at,total\nO-9,C-R,2026-03-01,10\n"
    with pytest.raises(ImportRejected):
        _import(engine, teams["rival"], tmp_path, "orders", orders)
    assert _import(engine, teams["boss"], tmp_path, "orders", orders).imported == 1


@pytest.mark.parametrize("kind", ["users", "products", "partners", "campaigns", "order-lines"])
def test_a_manager_may_not_import_staff_or_catalogue_files(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor], kind: str
) -> None:
    path = tmp_path / "any.csv"
    path.write_text("external_id,name\nX,Y\n", encoding="utf-8")
    with pytest.raises(PermissionDenied, match="customers, events, orders"):
        import_file(engine, teams["boss"], kind, path)


def test_a_representative_of_the_team_is_still_refused(
    engine: Engine, tmp_path: Path, teams: dict[str, Actor]
) -> None:
    before = _snapshot(engine)
    with pytest.raises(PermissionDenied):
        _import(engine, teams["rep"], tmp_path, "customers", "external_id,name\nC-Z,Z\n")
    assert _snapshot(engine) == before
