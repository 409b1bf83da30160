"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from index_service.access.directory import DirectoryVersion
from index_service.access.ratelimit import RateWindow
from index_service.alerts.models import Alert, AlertDelivery, DeliveryAttempt, WebhookEndpoint
from index_service.audit.models import AuditErasure, AuditEvent, AuditSeal
from index_service.children.models import Carer, Child, ChildAddress, ChildName, ShieldedAccess
from index_service.enquiries.models import Enquiry, EnquiryContact
from index_service.feeds.models import Feed, FeedReview, FeedRowKey
from index_service.flags.models import Flag
from index_service.involvements.models import Involvement
from index_service.issuers.models import TrustedIssuerRecord
from index_service.organisations.models import Organisation
from index_service.suspensions.models import Suspension
from index_service.web.models import WebPage, WebSession, WebSignIn

__all__ = [
    "Alert",
    "AlertDelivery",
    "AuditErasure",
    "AuditEvent",
    "AuditSeal",
    "Carer",
    "Child",
    "ChildAddress",
    "ChildName",
    "DeliveryAttempt",
    "DirectoryVersion",
    "Enquiry",
    "EnquiryContact",
    "Feed",
    "FeedReview",
    "FeedRowKey",
    "Flag",
    "Involvement",
    "Organisation",
    "RateWindow",
    "ShieldedAccess",
    "Suspension",
    "TrustedIssuerRecord",
    "WebPage",
    "WebSession",
    "WebSignIn",
    "WebhookEndpoint",
]
