"""The closed vocabularies of DESIGN §1, as string enums.

The values are what is stored in the database and written in files, so they never change
once released; labels for people come from the translation catalogues, not from here.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "MONEY_EVENT_KINDS",
    "AcquisitionChannel",
    "CampaignArm",
    "CampaignChannel",
    "CompanySize",
    "ConsentPurpose",
    "CustomerKind",
    "EventKind",
    "Gender",
    "IncomeBand",
    "OrderStatus",
    "Role",
    "Rung",
    "ValueCategory",
]


class CustomerKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class AcquisitionChannel(StrEnum):
    """How a customer was won (DESIGN §1 "People and companies")."""

    TARGETED_ADS = "targeted_ads"
    PARTNER = "partner"
    PERSONAL = "personal"
    REFERRAL = "referral"
    ORGANIC = "organic"
    RESEARCH_LIST = "research_list"
    OTHER = "other"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class IncomeBand(StrEnum):
    LOW = "low"
    LOWER_MIDDLE = "lower_middle"
    MIDDLE = "middle"
    UPPER_MIDDLE = "upper_middle"
    HIGH = "high"


class CompanySize(StrEnum):
    """Head-count bands as in the EU SME definition."""

    MICRO = "micro"  # < 10
    SMALL = "small"  # 10-49
    MEDIUM = "medium"  # 50-249
    LARGE = "large"  # 250+


class Role(StrEnum):
    """User roles (DESIGN §1 "Protection")."""

    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"
    REPRESENTATIVE = "representative"


class ConsentPurpose(StrEnum):
    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    MARKETING_PHONE = "marketing_phone"
    PROFILING = "profiling"
    THIRD_PARTY_SHARING = "third_party_sharing"


class OrderStatus(StrEnum):
    """Status of an order. Only ``completed`` orders can make a purchase occasion."""

    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # fully returned


class EventKind(StrEnum):
    """Everything that happens on a customer's timeline besides orders (DESIGN §1 "Activity")."""

    RETURN = "return"
    REFUND = "refund"
    COMPLAINT = "complaint"
    CLAIM = "claim"
    BONUS = "bonus"
    PROMOTION = "promotion"
    CREDIT = "credit"
    SERVICE_CONTACT = "service_contact"
    ENQUIRY = "enquiry"
    QUOTE_REQUEST = "quote_request"
    INFORMATION_REQUEST = "information_request"
    REVIEW = "review"
    NPS = "nps"
    TESTIMONIAL = "testimonial"
    REFERRAL = "referral"
    LOYALTY_ENROLMENT = "loyalty_enrolment"
    CANCELLATION = "cancellation"
    CAMPAIGN_CONTACT = "campaign_contact"
    CAMPAIGN_RESPONSE = "campaign_response"


#: Event kinds whose ``amount`` is money given back or granted to the customer.
MONEY_EVENT_KINDS = frozenset(
    {
        EventKind.RETURN,
        EventKind.REFUND,
        EventKind.BONUS,
        EventKind.PROMOTION,
        EventKind.CREDIT,
    }
)


class CampaignChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    ADS = "ads"
    SOCIAL = "social"
    DIRECT_MAIL = "direct_mail"
    PARTNER = "partner"
    EVENT = "event"
    PERSONAL = "personal"


class CampaignArm(StrEnum):
    TREATMENT = "treatment"
    CONTROL = "control"


class Rung(IntEnum):
    """The seven rungs of the loyalty ladder (DESIGN §1), in climbing order."""

    SUSPECT = 1
    PROSPECT = 2
    FIRST_TIME_BUYER = 3
    CLIENT = 4
    MEMBER = 5
    ADVOCATE = 6
    PARTNER = 7


class ValueCategory(StrEnum):
    """The four value categories (DESIGN §1); prospects and suspects have none."""

    LOYAL = "loyal"
    AVERAGE = "average"
    DEMANDING = "demanding"
    LOST = "lost"
