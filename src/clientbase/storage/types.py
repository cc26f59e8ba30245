"""Column types of the store, and the one place where personal data is marked.

Every column holding personal data (a person's name, e-mail, phone, street address) uses
:class:`PersonalText`. Today it stores text as it is; field encryption (DESIGN §5,
``security/crypto.py``) is added here, at the storage boundary, so the domain and the
services never change when it arrives. :data:`PERSONAL_COLUMNS` lists them for exports,
pseudonymisation and tests.

Money is stored as integer **minor units** (cents, fillér, grosz) in ``BigInteger`` columns
whose names end in ``_minor``: sums are exact on every engine (SQLite, PostgreSQL, DuckDB,
Spark) and identical to the cent between them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = ["PERSONAL_COLUMNS", "JsonDocument", "Money", "PersonalText"]


class PersonalText(TypeDecorator[str]):
    """Text that is personal data. The encryption boundary of DESIGN §5."""

    impl = String
    cache_ok = True

    def __init__(self, length: int = 320) -> None:
        super().__init__(length)


#: Money in integer minor units.
Money = BigInteger


class JsonDocument(TypeDecorator[Any]):
    """JSON on every engine; JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


#: ``table -> columns`` holding personal data (kept in sync by a test over the ORM).
PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("name", "email", "phone", "address"),
}
