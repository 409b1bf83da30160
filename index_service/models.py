"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from index_service.audit.models import AuditEvent
from index_service.children.models import Carer, Child, ChildAddress, ChildName
from index_service.flags.models import Flag
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation

__all__ = [
    "AuditEvent",
    "Carer",
    "Child",
    "ChildAddress",
    "ChildName",
    "Flag",
    "Involvement",
    "Organisation",
]
