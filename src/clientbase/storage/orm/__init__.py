"""The typed ORM of the store (SQLAlchemy 2). Import models from here."""

from clientbase.storage.orm.access import ApiToken, LoginAttempt, WebSession
from clientbase.storage.orm.base import Base
from clientbase.storage.orm.campaigns import Campaign, CampaignMember
from clientbase.storage.orm.catalog import Partner, Product
from clientbase.storage.orm.customers import Customer, CustomerConsent, CustomerExternalId
from clientbase.storage.orm.events import Event
from clientbase.storage.orm.orders import Order, OrderLine
from clientbase.storage.orm.records import AuditEntry, DemoCampaignTruth, DemoTruth, ImportBatch
from clientbase.storage.orm.scoring import CustomerScore, ScoreRun
from clientbase.storage.orm.users import User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignMember",
    "Customer",
    "CustomerConsent",
    "CustomerExternalId",
    "CustomerScore",
    "DemoCampaignTruth",
    "DemoTruth",
    "Event",
    "ImportBatch",
    "LoginAttempt",
    "Order",
    "OrderLine",
    "Partner",
    "Product",
    "ScoreRun",
    "User",
    "WebSession",
]
