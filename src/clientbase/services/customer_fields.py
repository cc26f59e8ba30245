"""The writable fields of a customer, and which of its fields are personal data.

Only what is listed in :class:`CustomerFields` can be written through any write body: the
owner, rung, scores, ids and timestamps are read-only, and a body that names them is
rejected (``extra="forbid"``) rather than silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clientbase.domain.vocabulary import (
    AcquisitionChannel,
    CompanySize,
    CustomerKind,
    Gender,
    IncomeBand,
)
from clientbase.errors import InvalidInput
from clientbase.storage.types import PERSONAL_COLUMNS

__all__ = ["PERSONAL_FIELDS", "CustomerFields", "CustomerPatch", "parse_fields"]

#: The personal-data fields hidden from pseudonymised scopes.
PERSONAL_FIELDS: tuple[str, ...] = PERSONAL_COLUMNS["customers"]

_Tags = list[str] | None


class CustomerPatch(BaseModel):
    """A change to a customer: every field optional, unknown or read-only fields refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CustomerKind | None = None
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\-. /]{3,40}$")
    address: str | None = Field(default=None, max_length=400)
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    income_band: IncomeBand | None = None
    occupation: str | None = Field(default=None, max_length=120)
    industry: str | None = Field(default=None, max_length=120)
    company_size: CompanySize | None = None
    country: str | None = Field(default=None, min_length=2, max_length=2)
    region: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=120)
    postcode: str | None = Field(default=None, max_length=20)
    interests: _Tags = None
    lifestyle: _Tags = None
    attitudes: _Tags = None
    values: _Tags = None
    acquisition_channel: AcquisitionChannel | None = None
    acquired_at: datetime | None = None


class CustomerFields(CustomerPatch):
    """A new customer: the same fields, with a kind and a channel defaulted."""

    kind: CustomerKind | None = CustomerKind.PERSON
    acquisition_channel: AcquisitionChannel | None = AcquisitionChannel.OTHER


_M = TypeVar("_M", bound=CustomerPatch)


def parse_fields(model: type[_M], data: dict[str, Any]) -> _M:
    """Validate a write body; read-only or unknown fields raise :class:`InvalidInput`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        names = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise InvalidInput(f"invalid or read-only customer fields: {', '.join(names)}") from exc
