"""Only administrators may import: an import writes records of every owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from clientbase.domain.vocabulary import Role
from clientbase.errors import PermissionDenied
from clientbase.security.actor import Actor
from clientbase.services.imports import import_file
from clientbase.storage.orm import AuditEntry, Customer


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ANALYST, Role.REPRESENTATIVE])
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
