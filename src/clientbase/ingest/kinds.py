"""What each kind of import holds: its fields, their types, keys and references.

Field names are what a file (or a mapping) uses; ``column`` is where the value lands in the
store. Money fields are read in major units (``12 990 Ft``, ``1 234,50 zł``) and stored in
minor units; references carry the referenced record's external id (a user's username).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clientbase.domain.vocabulary import (
    AcquisitionChannel,
    CampaignArm,
    CampaignChannel,
    CompanySize,
    CustomerKind,
    EventKind,
    Gender,
    IncomeBand,
    OrderStatus,
    Role,
)
from clientbase.errors import InvalidInput

__all__ = ["KINDS", "FieldSpec", "FieldType", "KindSpec", "kind_spec"]


class FieldType(StrEnum):
    TEXT = "text"
    INT = "integer"
    MONEY = "amount"
    DATE = "date"
    DATETIME = "date-time"
    BOOL = "yes/no"
    ENUM = "choice"
    TAGS = "list"
    EMAIL = "e-mail"
    COUNTRY = "country code"
    REF = "reference"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an import kind.

    ``default`` is stored for new records when the file does not provide the field;
    ``ref`` names the kind a reference points to.
    """

    name: str
    column: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    default: str | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    negative_allowed: bool = False
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    """An import kind: the table it fills, its natural key and its fields."""

    name: str
    table: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    sourced: bool = True

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def references(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.type is FieldType.REF)


def _text(
    name: str, length: int, *, required: bool = False, column: str | None = None
) -> FieldSpec:
    return FieldSpec(name, column or name, FieldType.TEXT, required=required, max_length=length)


def _choice(
    name: str, enum: type[StrEnum], *, required: bool = False, default: str | None = None
) -> FieldSpec:
    return FieldSpec(
        name,
        name,
        FieldType.ENUM,
        required=required,
        default=default,
        choices=tuple(e.value for e in enum),
    )


def _money(
    name: str, *, required: bool = False, default: str | None = None, negative: bool = False
) -> FieldSpec:
    return FieldSpec(
        name,
        f"{name}_minor",
        FieldType.MONEY,
        required=required,
        default=default,
        negative_allowed=negative,
    )


def _ref(name: str, target: str, *, required: bool = False, column: str | None = None) -> FieldSpec:
    return FieldSpec(name, column or f"{name}_id", FieldType.REF, required=required, ref=target)


_EXTERNAL_ID = _text("external_id", 120, required=True)
_TAGS = tuple(
    FieldSpec(n, n, FieldType.TAGS) for n in ("interests", "lifestyle", "attitudes", "values")
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "customers",
            "customers",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _choice("kind", CustomerKind, default="person"),
                _text("name", 300),
                FieldSpec("email", "email", FieldType.EMAIL, max_length=320),
                _text("phone", 40),
                _text("address", 400),
                _choice("gender", Gender),
                FieldSpec("birth_year", "birth_year", FieldType.INT, minimum=1900, maximum=2100),
                _choice("income_band", IncomeBand),
                _text("occupation", 120),
                _text("industry", 120),
                _choice("company_size", CompanySize),
                FieldSpec("country", "country", FieldType.COUNTRY),
                _text("region", 120),
                _text("city", 120),
                _text("postcode", 20),
                *_TAGS,
                _choice("acquisition_channel", AcquisitionChannel, default="other"),
                FieldSpec("acquired_at", "acquired_at", FieldType.DATETIME),
                _ref("referred_by", "customers", column="referred_by_customer_id"),
                _ref("referred_by_partner", "partners", column="referred_by_partner_id"),
                _ref("acquisition_campaign", "campaigns"),
                _ref("owner", "users"),
            ),
        ),
        KindSpec(
            "users",
            "users",
            ("username",),
            (
                _text("username", 80, required=True),
                _text("display_name", 200, required=True),
                FieldSpec("email", "email", FieldType.EMAIL, max_length=320),
                _choice("role", Role, required=True),
                FieldSpec("active", "active", FieldType.BOOL, default="true"),
                _ref("manager", "users"),
                FieldSpec("locale", "locale", FieldType.TEXT, default="en", max_length=10),
                FieldSpec("left_at", "left_at", FieldType.DATETIME),
                _text("external_id", 120),
            ),
            sourced=False,
        ),
        KindSpec(
            "partners",
            "partners",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _text("name", 300, required=True),
                _text("industry", 120),
                FieldSpec("country", "country", FieldType.COUNTRY),
            ),
        ),
        KindSpec(
            "products",
            "products",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _text("name", 300, required=True),
                _text("category", 120),
                _money("price", required=True),
                _money("unit_cost"),
                FieldSpec("active", "active", FieldType.BOOL, default="true"),
            ),
        ),
        KindSpec(
            "campaigns",
            "campaigns",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _text("name", 300, required=True),
                _choice("channel", CampaignChannel, required=True),
                _money("cost", default="0"),
                FieldSpec("starts_on", "starts_on", FieldType.DATE, required=True),
                FieldSpec("ends_on", "ends_on", FieldType.DATE),
                _ref("partner", "partners"),
                _ref("owner", "users"),
            ),
        ),
        KindSpec(
            "orders",
            "orders",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _ref("customer", "customers", required=True),
                FieldSpec("ordered_at", "ordered_at", FieldType.DATETIME, required=True),
                _choice("status", OrderStatus, default="completed"),
                _money("total", required=True),
                _money("discount", default="0"),
                _money("cost"),
                _ref("handled_by", "users"),
                _ref("campaign", "campaigns"),
                _text("sales_channel", 40),
            ),
        ),
        KindSpec(
            "order-lines",
            "order_lines",
            ("order", "line_no"),
            (
                _ref("order", "orders", required=True),
                FieldSpec("line_no", "line_no", FieldType.INT, minimum=1, maximum=1_000_000),
                _ref("product", "products"),
                FieldSpec(
                    "quantity", "quantity", FieldType.INT, required=True, minimum=0, maximum=10**9
                ),
                _money("unit_price", required=True),
                _money("unit_cost"),
                _money("discount", default="0"),
            ),
            sourced=False,
        ),
        KindSpec(
            "events",
            "events",
            ("external_id",),
            (
                _EXTERNAL_ID,
                _ref("customer", "customers", required=True),
                FieldSpec("occurred_at", "occurred_at", FieldType.DATETIME, required=True),
                _choice("kind", EventKind, required=True),
                _money("amount"),
                _money("cost"),
                FieldSpec("rating", "rating", FieldType.INT, minimum=0, maximum=10),
                _text("status", 20),
                _ref("handled_by", "users"),
                _ref("campaign", "campaigns"),
                _ref("order", "orders"),
                _ref("related_customer", "customers"),
            ),
        ),
        KindSpec(
            "campaign-members",
            "campaign_members",
            ("campaign", "customer"),
            (
                _ref("campaign", "campaigns", required=True),
                _ref("customer", "customers", required=True),
                _choice("arm", CampaignArm, default="treatment"),
                FieldSpec("contacted_at", "contacted_at", FieldType.DATETIME),
                FieldSpec("responded_at", "responded_at", FieldType.DATETIME),
            ),
            sourced=False,
        ),
    )
}


def kind_spec(kind: str) -> KindSpec:
    """The spec of ``kind`` (``order_lines`` and ``order-lines`` both work).

    Raises
    ------
    InvalidInput
        ``kind`` is not an import kind.
    """
    spec = KINDS.get(kind.strip().lower().replace("_", "-"))
    if spec is None:
        raise InvalidInput(f"unknown import kind {kind!r}: use one of {', '.join(KINDS)}")
    return spec
