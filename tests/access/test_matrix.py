"""The authorisation matrix, as data: every /v1 route, for every role (each in the kind of
organisation it works in), against a target in each relation to the caller.

`MATRIX` reads as a table. A `[METHOD path]` line opens a route; under it, one line per
persona (`PERSONAS`: role and organisation type) with one cell per relation. A cell is

    KEPT, CASE, ENTRY, ACK, SHIELDED  success, and a child with exactly these top-level
                                      fields, no others (access/views.py: KEPT_RECORD,
                                      CASE_RECORD, ENTRY, ACKNOWLEDGEMENT, SHIELDED);
                                      `A+B` is the union, for a caller with both roles
    ok                                success; the response is not a child (for a list,
                                      the target is among its items)
    unlisted                          success, a list, and the target is not among its
                                      items
    403, 404                          refused: permission_denied, not_found
    403:outside                       refused: outside_your_authority
    403:not_ra                        refused: not_responsible_authority
    403:shielded                      refused: record_shielded
    -                                 the relation does not apply to the route

Success is the route's own status (201 for those that create, else 200). Every request
leaves exactly one audit row; a refusal is a problem document, its audit row says
"refused", and it changes nothing.

The caller's organisation is always in Ealing. Relations of the target to the caller:

    own        the caller's own: a child of Ealing that the caller's organisation recorded
               and works with; the caller's own organisation; a suspension of a user of
               the caller's organisation; a trusted issuer that vouches for it; an
               involvement or a flag of the caller's organisation; an alert to the caller;
               an enquiry-only contact the caller made in Ealing; a webhook endpoint of the
               caller's organisation. Creating: a child of Ealing; a new organisation in
               Ealing; a webhook endpoint for the caller's organisation. Deactivating
               or reactivating: a further organisation in Ealing
    other_org  another organisation's, in Ealing: a child of Ealing another children's
               social care recorded and works with; that organisation; its suspension;
               an issuer that vouches for it; its involvement or flag (on that child); an
               alert to one of its users; an enquiry-only contact one of its users made
               in Ealing; its webhook endpoint
    other_la   Haringey's: a child Haringey is responsible for and who lives there; an
               organisation in Haringey, its suspension, an issuer that vouches for it;
               its involvement or flag (on that child); an alert to Haringey's designated
               managers; an enquiry-only contact in Haringey; its webhook endpoint
    resident   a child Haringey is responsible for who lives in Ealing now (and Haringey's
               flag on the child)
    shielded   the same, after Haringey's data manager shielded the record: where it lives
               gives Ealing no reach (it answers as for other_la), but an enquiry finds it

For the enquiry routes the target child is one the caller's own enquiry found. For the
overdue flags the target is a flag past its review date: the caller raised the own one,
a user of the owner the others.

For the audit routes the target is an audit event (set up without a request): a look at
the child in the relation, by a user of its owner (the caller, for their own), in the
small hours two days ago. The event search and its exports list it or not; the child
access report is about that child and lists it; the practitioner activity is that user's;
the misuse report is out-of-hours, whose cases it is among. A shielded child's events
are the responsible authority's alone: an auditor where the child lives does not see them
(where a shielded child lives is known only to its authority). Verifying the chain has no
target: only `own` applies. The exports stream CSV and FHIR JSON rather than JSON.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.access.views import ACKNOWLEDGEMENT, CASE_RECORD, ENTRY, KEPT_RECORD, SHIELDED
from index_service.alerts.calendar import LONDON
from index_service.alerts.models import Alert, Team, WebhookEndpoint
from index_service.alerts.webhooks import new_secret
from index_service.api.routing import PERMISSION_KEY
from index_service.audit.export import CSV_COLUMNS
from index_service.audit.models import AuditEvent
from index_service.children import lifecycle
from index_service.children import service as children
from index_service.children.schemas import ChildCreate
from index_service.common import utcnow
from index_service.enquiries.models import Enquiry
from index_service.feeds.models import FeedReview
from index_service.feeds.service import review_record
from index_service.feeds.writes import Supplied
from index_service.flags.models import Flag, FlagKind
from index_service.involvements.service import record_involvement
from index_service.issuers import service as issuers
from index_service.issuers.models import TrustedIssuerCreate
from index_service.main import V1_ROUTERS
from index_service.matching.model import CURRENT_VERSION
from index_service.organisations.models import Organisation
from index_service.settings import DEV_ISSUER
from index_service.suspensions import service as suspensions
from index_service.suspensions.models import SuspensionCreate
from tests.factories import (
    EALING,
    HARINGEY,
    PURPOSE,
    VALID_NHS_NUMBER,
    VALID_UPN,
    Factory,
    child_payload,
)

RELATIONS = ("own", "other_org", "other_la", "resident", "shielded")

MATRIX = """
persona                       own         other_org   other_la    resident    shielded

[POST /v1/organisations]
practitioner                  403         -           403         -           -
social_worker                 403         -           403         -           -
designated_manager            403         -           403         -           -
data_manager                  403         -           403         -           -
auditor                       403         -           403         -           -
national_auditor              403         -           403         -           -
administrator                 ok          -           ok          -           -
service_account               403         -           403         -           -
practitioner+service_account  403         -           403         -           -

[GET /v1/organisations]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/organisations/{organisation_id}]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[PUT /v1/organisations/{organisation_id}/deactivation]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[DELETE /v1/organisations/{organisation_id}/deactivation]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/suspensions]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/suspensions]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[DELETE /v1/suspensions/{suspension_id}]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/trusted-issuers]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/trusted-issuers]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[DELETE /v1/trusted-issuers/{issuer_id}]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/children]
practitioner                  403         -           403         403         -
social_worker                 CASE        -           403:outside CASE        -
designated_manager            403         -           403         403         -
data_manager                  KEPT        -           403:outside KEPT        -
auditor                       403         -           403         403         -
national_auditor              403         -           403         403         -
administrator                 403         -           403         403         -
service_account               ACK         -           ACK         ACK         -
practitioner+service_account  ENTRY+ACK   -           ENTRY+ACK   ENTRY+ACK   -

[GET /v1/children/{child_id}]
practitioner                  403         403         403         403         403
social_worker                 CASE        CASE        404         CASE        404
designated_manager            CASE        CASE        404         CASE        404
data_manager                  KEPT        KEPT        404         KEPT        404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[PATCH /v1/children/{child_id}]
practitioner                  403         403         403         403         403
social_worker                 CASE        CASE        404         CASE        404
designated_manager            403         403         403         403         403
data_manager                  KEPT        KEPT        404         KEPT        404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[PUT /v1/children/{child_id}/shield]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  KEPT        KEPT        404         403:not_ra  404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[DELETE /v1/children/{child_id}/shield]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  KEPT        KEPT        404         403:not_ra  404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[POST /v1/children/{child_id}/merges]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[POST /v1/children/{child_id}/merges/{merge_id}/undo]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/children/{child_id}/legal-hold]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       ok          ok          404         403:not_ra  404
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[PUT /v1/children/{child_id}/legal-hold]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       ok          ok          404         403:not_ra  404
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[DELETE /v1/children/{child_id}/legal-hold]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       ok          ok          404         403:not_ra  404
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/children/{child_id}/subject-access]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          404         403:not_ra  404
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[POST /v1/enquiries]
practitioner                  ok          ok          ok          ok          ok
social_worker                 ok          ok          ok          ok          ok
designated_manager            ok          ok          ok          ok          ok
data_manager                  ok          ok          ok          ok          ok
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  ok          ok          ok          ok          ok

[GET /v1/enquiries/{enquiry_id}/children/{child_id}]
practitioner                  ENTRY       ENTRY       ENTRY       ENTRY       SHIELDED
social_worker                 CASE        CASE        ENTRY       CASE        SHIELDED
designated_manager            CASE        CASE        ENTRY       CASE        SHIELDED
data_manager                  KEPT        KEPT        ENTRY       KEPT        SHIELDED
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  ENTRY+ACK   ENTRY+ACK   ENTRY+ACK   ENTRY+ACK   SHIELDED

[GET /v1/enquiry-contacts]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            ok          ok          unlisted    -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/enquiry-contacts/{contact_id}/close]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            ok          ok          404         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/children/{child_id}/involvements]
practitioner                  ok          404         404         404         404
social_worker                 ok          ok          404         ok          404
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  ok          404         404         404         404

[POST /v1/involvements/{involvement_id}/end]
practitioner                  ok          404         404         -           -
social_worker                 ok          404         404         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          404         404         -           -

[POST /v1/children/{child_id}/flags]
practitioner                  ok          404         404         404         404
social_worker                 ok          ok          404         ok          404
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  ok          404         404         404         404

[POST /v1/flags/{flag_id}/review]
practitioner                  ok          404         404         -           -
social_worker                 ok          404         404         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          404         404         -           -

[POST /v1/flags/{flag_id}/end]
practitioner                  ok          404         404         -           -
social_worker                 ok          404         404         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          404         404         -           -

[GET /v1/flags/overdue]
practitioner                  ok          unlisted    unlisted    unlisted    unlisted
social_worker                 ok          unlisted    unlisted    unlisted    unlisted
designated_manager            403         403         403         403         403
data_manager                  ok          ok          unlisted    ok          unlisted
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  ok          unlisted    unlisted    unlisted    unlisted

[POST /v1/feeds]
practitioner                  403         -           403         -           -
social_worker                 403         -           403         -           -
designated_manager            403         -           403         -           -
data_manager                  ok          -           ok          -           -
auditor                       403         -           403         -           -
national_auditor              403         -           403         -           -
administrator                 403         -           403         -           -
service_account               ok          -           ok          -           -
practitioner+service_account  ok          -           ok          -           -

[GET /v1/feeds/reviews]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  ok          ok          unlisted    -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[POST /v1/feeds/reviews/{review_id}/resolve]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  ok          ok          404         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/data-quality/gaps]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  ok          ok          unlisted    ok          unlisted
auditor                       403         403         403         403         403
national_auditor              403         403         403         403         403
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/alerts]
practitioner                  ok          unlisted    unlisted    -           -
social_worker                 ok          unlisted    unlisted    -           -
designated_manager            ok          unlisted    unlisted    -           -
data_manager                  ok          unlisted    unlisted    -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          unlisted    unlisted    -           -

[GET /v1/alerts/{alert_id}]
practitioner                  ok          404         404         -           -
social_worker                 ok          404         404         -           -
designated_manager            ok          404         404         -           -
data_manager                  ok          404         404         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          404         404         -           -

[POST /v1/alerts/{alert_id}/acknowledge]
practitioner                  ok          404         404         -           -
social_worker                 ok          404         404         -           -
designated_manager            ok          404         404         -           -
data_manager                  ok          404         404         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 403         403         403         -           -
service_account               403         403         403         -           -
practitioner+service_account  ok          404         404         -           -

[POST /v1/webhook-endpoints]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/webhook-endpoints]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[DELETE /v1/webhook-endpoints/{endpoint_id}]
practitioner                  403         403         403         -           -
social_worker                 403         403         403         -           -
designated_manager            403         403         403         -           -
data_manager                  403         403         403         -           -
auditor                       403         403         403         -           -
national_auditor              403         403         403         -           -
administrator                 ok          ok          ok          -           -
service_account               403         403         403         -           -
practitioner+service_account  403         403         403         -           -

[GET /v1/audit/events]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          unlisted    ok          unlisted
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/events/export.csv]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          unlisted    ok          unlisted
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/events/export.fhir]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          unlisted    ok          unlisted
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/children/{child_id}/accesses]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          404         ok          404
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/practitioners/activity]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          unlisted    ok          unlisted
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/reports/{report}]
practitioner                  403         403         403         403         403
social_worker                 403         403         403         403         403
designated_manager            403         403         403         403         403
data_manager                  403         403         403         403         403
auditor                       ok          ok          unlisted    ok          unlisted
national_auditor              ok          ok          ok          ok          ok
administrator                 403         403         403         403         403
service_account               403         403         403         403         403
practitioner+service_account  403         403         403         403         403

[GET /v1/audit/verify]
practitioner                  403         -           -           -           -
social_worker                 403         -           -           -           -
designated_manager            403         -           -           -           -
data_manager                  403         -           -           -           -
auditor                       ok          -           -           -           -
national_auditor              ok          -           -           -           -
administrator                 403         -           -           -           -
service_account               403         -           -           -           -
practitioner+service_account  403         -           -           -           -
"""


@dataclass(frozen=True)
class Persona:
    roles: tuple[str, ...]
    organisation_type: str


PERSONAS = {
    "practitioner": Persona(("practitioner",), "emergency_department"),
    "social_worker": Persona(("social_worker",), "childrens_social_care"),
    "designated_manager": Persona(("designated_manager",), "childrens_social_care"),
    "data_manager": Persona(("data_manager",), "childrens_social_care"),
    "auditor": Persona(("auditor",), "childrens_social_care"),
    "national_auditor": Persona(("national_auditor",), "index_operator"),
    "administrator": Persona(("administrator",), "index_operator"),
    "service_account": Persona(("service_account",), "hospital"),
    "practitioner+service_account": Persona(("practitioner", "service_account"), "hospital"),
}
FIELD_SETS = {
    "KEPT": KEPT_RECORD,
    "CASE": CASE_RECORD,
    "ENTRY": ENTRY,
    "ACK": ACKNOWLEDGEMENT,
    "SHIELDED": SHIELDED,
}
REFUSAL_CODES = {
    "403": "permission_denied",
    "404": "not_found",
    "403:outside": "outside_your_authority",
    "403:not_ra": "not_responsible_authority",
    "403:shielded": "record_shielded",
}
ENQUIRY_FIELDS = {"id", "outcome", "candidates", "advice", "model_version", "created_at"}


@dataclass(frozen=True)
class Expect:
    status: int | None = None  # None: the route's success status
    code: str | None = None
    fields: frozenset[str] | None = None  # a child with exactly these fields
    unlisted: bool = False  # a list without the target among its items

    @classmethod
    def parse(cls, cell: str) -> Expect:
        if cell in REFUSAL_CODES:
            return cls(status=int(cell[:3]), code=REFUSAL_CODES[cell])
        if cell == "ok":
            return cls()
        if cell == "unlisted":
            return cls(unlisted=True)
        fields: frozenset[str] = frozenset()
        for name in cell.split("+"):
            fields |= FIELD_SETS[name]
        return cls(fields=fields)

    @property
    def refused(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    persona: str
    relation: str
    expect: Expect

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} | {self.persona} | {self.relation}"


def parse_matrix(table: str) -> tuple[list[Case], dict[tuple[str, str], list[str]]]:
    """The cases, and for each route the personas it has a row for (in order)."""
    header, *lines = [line for line in table.strip().splitlines() if line.strip()]
    assert tuple(header.split()[1:]) == RELATIONS, header
    cases: list[Case] = []
    rows: dict[tuple[str, str], list[str]] = {}
    route: tuple[str, str] | None = None
    for line in lines:
        if line.startswith("["):
            method, path = line.strip("[]").split()
            route = (method, path)
            assert route not in rows, f"{route} appears twice"
            rows[route] = []
            continue
        assert route is not None, line
        persona, *cells = line.split()
        assert persona in PERSONAS, persona
        assert len(cells) == len(RELATIONS), line
        rows[route].append(persona)
        for relation, cell in zip(RELATIONS, cells, strict=True):
            if cell != "-":
                cases.append(Case(*route, persona, relation, Expect.parse(cell)))
    return cases, rows


CASES, ROWS = parse_matrix(MATRIX)


# ---------------------------------------------------------------------------------------
# The world each case runs in: the caller's organisation, another in Ealing, one in
# Haringey, and targets made through the service functions (so no audit rows).
# ---------------------------------------------------------------------------------------

HARINGEY_HOME = {
    "line1": "9 Old Lane",
    "town": "London",
    "postcode": "N17 6AB",
    "local_authority": HARINGEY,
    "from_date": "2016-02-11",
}
# Kept by data managers who traced the NHS numbers: an enquiry by the number alone is a
# match only on a verified number (model v4).
TRACED = {"nhs_number_status": "verified_trace"}
CHILDREN = {
    "own": child_payload(**TRACED),
    "other_org": child_payload(**TRACED),
    "other_la": child_payload(responsible_authority=HARINGEY, addresses=[HARINGEY_HOME], **TRACED),
    "resident": child_payload(responsible_authority=HARINGEY, **TRACED),
    "shielded": child_payload(responsible_authority=HARINGEY, **TRACED),
}


RECEIVER = "https://receiver.agency.example/hooks"


def acting_for(organisation: Organisation, subject: str = "setup") -> Principal:
    """A data manager of the organisation's authority, for building targets."""
    return Principal(
        issuer=DEV_ISSUER,
        subject=subject,
        name="Setup",
        email="setup@test.example",
        roles=frozenset({Role.DATA_MANAGER}),
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_type="childrens_social_care",
        local_authority=organisation.local_authority,
    )


@dataclass
class World:
    client: TestClient
    factory: Factory
    caller: Organisation
    other_org: Organisation
    haringey: Organisation
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, client: TestClient, factory: Factory, persona: Persona) -> World:
        caller = factory.organisation(type=persona.organisation_type, local_authority=EALING)
        token = factory.token(organisation=caller, roles=list(persona.roles), sub="user-1")
        return cls(
            client=client,
            factory=factory,
            caller=caller,
            other_org=factory.organisation(local_authority=EALING),
            haringey=factory.organisation(local_authority=HARINGEY),
            headers={"Authorization": f"Bearer {token}", **PURPOSE},
        )

    def operator_for_setup(self) -> Organisation:
        """An index-operator organisation of its own, for suspensions made in setup."""
        return self.factory.organisation(type="index_operator", local_authority=HARINGEY)

    def owner(self, relation: str) -> Organisation:
        return {"own": self.caller, "other_org": self.other_org}.get(relation, self.haringey)

    def child(self, relation: str) -> uuid.UUID:
        """A child in this relation to the caller, with its owner's involvement."""
        return self.child_and_involvement(relation)[0]

    def child_and_involvement(self, relation: str) -> tuple[uuid.UUID, uuid.UUID]:
        setup = acting_for(self.owner(relation))
        with self.factory.db.transaction() as session:
            data = ChildCreate.model_validate(CHILDREN[relation])
            child_id = children.create_child(session=session, caller=setup, data=data).child.id
            involvement_id = record_involvement(
                session=session,
                caller=setup,
                child_id=child_id,
                service="Matrix team",
                practitioner_name="Sam Worker",
                start_date=date(2024, 1, 1),
            ).id
            if relation == "shielded":
                children.set_shielded(
                    session=session,
                    caller=setup,
                    child_id=child_id,
                    shielded=True,
                    expected_version=1,
                )
        return child_id, involvement_id

    def involvement(self, relation: str) -> uuid.UUID:
        """The owner's current involvement with the child in this relation to the caller."""
        return self.child_and_involvement(relation)[1]

    def raiser(self, relation: str) -> str:
        """Who raised the owner's flag or made its enquiry: the caller, for their own."""
        return "user-1" if relation == "own" else "setup"

    def flag(self, relation: str, *, overdue: bool = False) -> uuid.UUID:
        """The owner's active flag on the child in this relation to the caller, to be
        reviewed in a month, or (overdue) yesterday."""
        today = utcnow().date()
        flag = Flag(
            child_id=self.child(relation),
            kind=FlagKind.CONCERN_RAISED.value,
            organisation_id=self.owner(relation).id,
            contact_name="Sam Worker",
            raised_by_issuer=DEV_ISSUER,
            raised_by_subject=self.raiser(relation),
            attributes={"area_of_concern": "parenting_capacity"},
            review_date=today + (timedelta(days=-1) if overdue else timedelta(days=30)),
        )
        with self.factory.db.transaction() as session:
            session.add(flag)
        return flag.id

    def alert(self, relation: str) -> uuid.UUID:
        """An alert to the caller; to a user of the other organisation; to Haringey's
        designated managers."""
        recipients: dict[str, dict[str, Any]] = {
            "own": {
                "recipient_issuer": DEV_ISSUER,
                "recipient_subject": "user-1",
                "recipient_organisation_id": self.caller.id,
            },
            "other_org": {
                "recipient_issuer": DEV_ISSUER,
                "recipient_subject": "other-org-user",
                "recipient_organisation_id": self.other_org.id,
            },
            "other_la": {
                "recipient_team": Team.DESIGNATED_MANAGERS.value,
                "recipient_authority": HARINGEY,
            },
        }
        return self.add_alert(**recipients[relation])

    def add_alert(self, **recipient: Any) -> uuid.UUID:
        alert = Alert(
            rule="R4",
            reason="flag_raised",
            occurred_at=utcnow(),
            dedupe_key=uuid.uuid4().hex,
            **recipient,
        )
        with self.factory.db.transaction() as session:
            session.add(alert)
        return alert.id

    def enquiry_contact(self, relation: str) -> uuid.UUID:
        """An open enquiry-only contact, about a child said to live in the owner's
        authority, made by a user of the owner (the caller, for their own)."""
        owner, subject = self.owner(relation), self.raiser(relation)
        return uuid.UUID(self.factory.enquiry_contact(owner, subject=subject))

    def audit_event(self, relation: str) -> tuple[uuid.UUID, uuid.UUID]:
        """A look at the child in this relation to the caller, by a user of its owner (the
        caller, for their own), at 03:00 London time two days ago (out of hours), written
        as the service writes a request's event: the event's id and the child's."""
        child = self.child(relation)
        two_days_ago = utcnow().astimezone(LONDON) - timedelta(days=2)
        event = AuditEvent(
            occurred_at=two_days_ago.replace(hour=3, minute=0, second=0, microsecond=0),
            action=Permission.CHILD_READ.value,
            outcome="success",
            status_code=200,
            issuer=DEV_ISSUER,
            subject=self.raiser(relation),
            actor_name="Sam Worker",
            organisation=self.owner(relation).code,
            roles=[Role.SOCIAL_WORKER.value],
            child_ids=[child],
            purpose=PURPOSE["Purpose-Of-Use"],
            purpose_text=PURPOSE["Purpose-Text"],
            method="GET",
            route="/v1/children/{child_id}",
            request_id=uuid.uuid4().hex,
            instance="matrix-setup",
        )
        with self.factory.db.transaction() as session:
            session.add(event)
        return event.id, child

    def webhook_body(self, relation: str) -> dict[str, Any]:
        return {"organisation_code": self.owner(relation).code, "url": RECEIVER}

    def webhook_endpoint(self, relation: str) -> uuid.UUID:
        endpoint = WebhookEndpoint(
            organisation_id=self.owner(relation).id,
            url=RECEIVER,
            secret=new_secret(),
            created_by=f"{DEV_ISSUER} setup-admin",
        )
        with self.factory.db.transaction() as session:
            session.add(endpoint)
        return endpoint.id

    def feed_review(self, relation: str) -> uuid.UUID:
        """A feed row queued for the owner's authority, sent by the owner."""
        owner = self.owner(relation)
        data = ChildCreate.model_validate(
            {**CHILDREN[relation], "responsible_authority": owner.local_authority}
        )
        supplied = Supplied(
            record=data,
            groups=frozenset({"names", "addresses"}),
            organisation=owner.code,
            feed_id=uuid.uuid4(),
            at=utcnow(),
        )
        review = FeedReview(
            feed_id=supplied.feed_id,
            organisation_code=owner.code,
            source_record_id="MATRIX-1",
            responsible_authority=owner.local_authority,
            record=review_record(supplied),
            candidate_ids=[],
            reason="possible_match",
        )
        with self.factory.db.transaction() as session:
            session.add(review)
        return review.id

    def child_with_a_gap(self, relation: str) -> uuid.UUID:
        """The child in this relation to the caller, its GP practice not known."""
        child = self.child(relation)
        with self.factory.db.transaction() as session:
            session.execute(
                text("UPDATE child SET gp_status = 'unknown', gp_ods_code = NULL WHERE id = :id"),
                {"id": child},
            )
        return child

    def version(self, child_id: uuid.UUID) -> str:
        with self.factory.db.session() as session:
            query = text("SELECT version FROM child WHERE id = :id")
            return f'"{session.execute(query, {"id": child_id}).scalar_one()}"'

    def enquiry_that_found(self, child_id: uuid.UUID) -> uuid.UUID:
        """The caller's own enquiry, just made, that found the child."""
        enquiry = Enquiry(
            issuer=DEV_ISSUER,
            subject="user-1",
            organisation_id=self.caller.id,
            purpose=PURPOSE["Purpose-Of-Use"],
            purpose_text=PURPOSE["Purpose-Text"],
            criteria={"nhs_number": VALID_NHS_NUMBER},
            outcome="possible_matches",
            candidate_ids=[child_id],
            model_version=CURRENT_VERSION,
        )
        with self.factory.db.transaction() as session:
            session.add(enquiry)
        return enquiry.id

    def suspension_body(self, relation: str) -> dict[str, Any]:
        if relation == "own":  # another user of the caller's organisation
            return {"kind": "user", "issuer": DEV_ISSUER, "subject": "user-2", "reason": "matrix"}
        code = self.owner(relation).code
        return {"kind": "organisation", "organisation_code": code, "reason": "matrix"}

    def suspension(self, relation: str) -> uuid.UUID:
        data = SuspensionCreate.model_validate(self.suspension_body(relation))
        setup = acting_for(self.operator_for_setup(), subject="setup-admin")
        with self.factory.db.transaction() as session:
            return suspensions.suspend(
                session=session, caller=setup, data=data, configured_issuers=frozenset({DEV_ISSUER})
            ).id

    def issuer_body(self, relation: str) -> dict[str, Any]:
        return {
            "issuer": f"https://idp-{uuid.uuid4().hex[:8]}.agency.example",
            "jwks_url": "https://keys.agency.example/jwks.json",
            # An agency in the owner's authority: social care's issuers are settings-only.
            "organisations": [self.agency_beside(relation).code],
        }

    def agency_beside(self, relation: str) -> Organisation:
        return self.factory.organisation(
            type="hospital", local_authority=self.owner(relation).local_authority
        )

    def trusted_issuer(self, relation: str) -> uuid.UUID:
        data = TrustedIssuerCreate.model_validate(self.issuer_body(relation))
        setup = acting_for(self.operator_for_setup(), subject="setup-admin")
        with self.factory.db.transaction() as session:
            # Set up as the test environment allows (no DNS here); registration through
            # the API is what the matrix checks.
            record = issuers.register(
                session=session,
                caller=setup,
                data=data,
                configured=frozenset(),
                allow_private=True,
            )
            return record.id

    def send(self, call: Call) -> httpx2.Response:
        headers = dict(self.headers)
        if call.if_match is not None:
            headers["If-Match"] = call.if_match
        if call.content is not None:
            headers["Content-Type"] = call.content_type
            response: httpx2.Response = self.client.request(
                call.method, call.url, content=call.content, headers=headers
            )
            return response
        response = self.client.request(call.method, call.url, json=call.json, headers=headers)
        return response


JSON = "application/json"


def _item_ids(body: Any) -> set[str]:
    return {item["id"] for item in body["items"]}


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    if_match: str | None = None
    child: uuid.UUID | None = None  # the child the route is about
    check: Callable[[Any], None] | None = None  # what a success must show, beyond fields
    listed: str | None = None  # a list route: the target, among its items or not (`unlisted`)
    listing: Callable[[Any], set[str]] = _item_ids  # the ids a success lists
    media_type: str = JSON  # a success's content type; JSON bodies are parsed, others text
    content: bytes | None = None  # a body that is not JSON (a feed), sent as `content_type`
    content_type: str = "text/csv"


# ---------------------------------------------------------------------------------------
# One request builder per route
# ---------------------------------------------------------------------------------------


def _is(expected_id: str, body: Any) -> None:
    assert body["id"] == expected_id


def _new_organisation(world: World, relation: str) -> Call:
    authority = HARINGEY if relation == "other_la" else EALING
    code = f"NEW{uuid.uuid4().hex[:8].upper()}"
    body = {
        "code": code,
        "name": "Matrix CSC",
        "type": "childrens_social_care",
        "local_authority": authority,
        "contact_phone": "020 7946 0311",
        "out_of_hours_phone": "020 7946 0399",
    }

    def check(created: Any) -> None:
        assert (created["code"], created["local_authority"]) == (code, authority)
        assert created["out_of_hours_phone"] == "020 7946 0399"

    return Call("POST", "/v1/organisations", json=body, check=check)


def _list_organisations(world: World, relation: str) -> Call:
    target = str(world.owner(relation).id)
    return Call("GET", "/v1/organisations?limit=200", listed=target)


def _read_organisation(world: World, relation: str) -> Call:
    target = str(world.owner(relation).id)
    return Call("GET", f"/v1/organisations/{target}", check=partial(_is, target))


def _deactivatable(world: World, relation: str) -> Organisation:
    """Deactivating: "own" is a further organisation of Ealing (an administrator may not
    deactivate their own: a 409 the matrix's cells do not speak of)."""
    if relation == "own":
        return world.factory.organisation(local_authority=EALING)
    return world.owner(relation)


def _deactivate(world: World, relation: str) -> Call:
    target = _deactivatable(world, relation)

    def check(done: Any) -> None:
        assert (done["id"], done["deactivation_reason"]) == (str(target.id), "Closed")

    return Call(
        "PUT", f"/v1/organisations/{target.id}/deactivation", json={"reason": "Closed"}, check=check
    )


def _reactivate(world: World, relation: str) -> Call:
    target = _deactivatable(world, relation)
    with world.factory.db.transaction() as session:
        row = session.get(Organisation, target.id)
        assert row is not None
        row.deactivated_at, row.deactivated_by, row.deactivation_reason = utcnow(), "A", "Closed"
        session.add(row)

    def check(done: Any) -> None:
        assert (done["id"], done["deactivated_at"]) == (str(target.id), None)

    return Call("DELETE", f"/v1/organisations/{target.id}/deactivation", check=check)


def _suspend(world: World, relation: str) -> Call:
    body = world.suspension_body(relation)

    def check(created: Any) -> None:
        assert {k: created[k] for k in body} == body
        assert created["suspended_by"] == f"{DEV_ISSUER} user-1"

    return Call("POST", "/v1/suspensions", json=body, check=check)


def _list_suspensions(world: World, relation: str) -> Call:
    target = str(world.suspension(relation))
    return Call("GET", "/v1/suspensions", listed=target)


def _lift(world: World, relation: str) -> Call:
    target = str(world.suspension(relation))

    def check(lifted: Any) -> None:
        assert lifted["id"] == target
        assert lifted["lifted_at"] is not None

    return Call("DELETE", f"/v1/suspensions/{target}", check=check)


def _register_issuer(world: World, relation: str) -> Call:
    body = world.issuer_body(relation)

    def check(created: Any) -> None:
        assert {k: created[k] for k in body} == body
        assert created["registered_by"] == f"{DEV_ISSUER} user-1"

    return Call("POST", "/v1/trusted-issuers", json=body, check=check)


def _list_issuers(world: World, relation: str) -> Call:
    target = str(world.trusted_issuer(relation))
    return Call("GET", "/v1/trusted-issuers", listed=target)


def _withdraw_issuer(world: World, relation: str) -> Call:
    target = str(world.trusted_issuer(relation))

    def check(withdrawn: Any) -> None:
        assert withdrawn["id"] == target
        assert withdrawn["withdrawn_at"] is not None

    return Call("DELETE", f"/v1/trusted-issuers/{target}", check=check)


def _create_child(world: World, relation: str) -> Call:
    # Creation as each role may do it: who may say a number is verified is
    # tests/children/test_nhs_number_status.py's.
    payload = {k: v for k, v in CHILDREN[relation].items() if k != "nhs_number_status"}

    def check(created: Any) -> None:
        with world.factory.db.session() as session:
            query = text("SELECT created_by_organisation FROM child WHERE id = :id")
            made_by = session.execute(query, {"id": uuid.UUID(created["id"])}).scalar_one()
        assert made_by == world.caller.code

    return Call("POST", "/v1/children", json=payload, check=check)


def _read_child(world: World, relation: str) -> Call:
    child = world.child(relation)
    return Call("GET", f"/v1/children/{child}", child=child)


def _update_child(world: World, relation: str) -> Call:
    child = world.child(relation)
    url = f"/v1/children/{child}"
    change = {"la_reference": "MATRIX-REF-1"}
    return Call("PATCH", url, json=change, if_match=world.version(child), child=child)


def _shield(world: World, relation: str) -> Call:
    child = world.child(relation)
    url = f"/v1/children/{child}/shield"
    return Call("PUT", url, if_match=world.version(child), child=child)


def _unshield(world: World, relation: str) -> Call:
    child = world.child(relation)
    url = f"/v1/children/{child}/shield"
    return Call("DELETE", url, if_match=world.version(child), child=child)


def _merge(world: World, relation: str) -> Call:
    """Two entries of the relation's child: the second is merged into the first."""
    survivor, other = world.child(relation), world.child(relation)
    url = f"/v1/children/{survivor}/merges"
    body = {"merged_id": str(other), "merged_version": int(world.version(other).strip('"'))}

    def check(merged: Any) -> None:
        assert (merged["survivor_id"], merged["merged_id"]) == (str(survivor), str(other))

    return Call("POST", url, json=body, if_match=world.version(survivor), check=check)


def _unmerge(world: World, relation: str) -> Call:
    """A merge of two entries of the relation's child, made by its owner's data manager,
    to be undone."""
    survivor, other = world.child(relation), world.child(relation)
    with world.factory.db.transaction() as session:
        merge_id = lifecycle.merge(
            session=session,
            caller=acting_for(world.owner(relation)),
            survivor_id=survivor,
            survivor_version=int(world.version(survivor).strip('"')),
            merged_id=other,
            merged_version=int(world.version(other).strip('"')),
        ).merge.id
    url = f"/v1/children/{survivor}/merges/{merge_id}/undo"

    def check(undone: Any) -> None:
        assert undone["unmerged_at"] is not None

    return Call("POST", url, if_match=world.version(survivor), check=check)


def _hold(world: World, relation: str) -> Call:
    child = world.child(relation)
    body = {"reason": "Matrix inquiry moratorium"}

    def check(held: Any) -> None:
        assert (held["child_id"], held["held"]) == (str(child), True)

    url = f"/v1/children/{child}/legal-hold"
    return Call("PUT", url, json=body, if_match=world.version(child), child=child, check=check)


def _read_hold(world: World, relation: str) -> Call:
    child = world.child(relation)

    def check(read: Any) -> None:
        assert (read["child_id"], read["held"]) == (str(child), False)

    return Call("GET", f"/v1/children/{child}/legal-hold", child=child, check=check)


def _lift_hold(world: World, relation: str) -> Call:
    child = world.child(relation)
    with world.factory.db.transaction() as session:
        lifecycle.set_legal_hold(
            session=session, caller=acting_for(world.owner(relation)), child_id=child, reason="x"
        )

    def check(lifted: Any) -> None:
        assert (lifted["child_id"], lifted["held"]) == (str(child), False)

    url = f"/v1/children/{child}/legal-hold"
    return Call("DELETE", url, if_match=world.version(child), child=child, check=check)


def _subject_access(world: World, relation: str) -> Call:
    child = world.child(relation)

    def check(report: Any) -> None:
        assert report["child_id"] == str(child)
        assert report["record"]["id"] == str(child)
        assert [i["service"] for i in report["involvements"]] == ["Matrix team"]

    return Call("GET", f"/v1/children/{child}/subject-access", child=child, check=check)


def _enquire(world: World, relation: str) -> Call:
    child = str(world.child(relation))

    def check(enquiry: Any) -> None:
        # An NHS number that agrees is decisive: a match, which discloses the entry.
        assert set(enquiry) == ENQUIRY_FIELDS | {"child"}
        assert enquiry["outcome"] == "match"
        assert [c["child_id"] for c in enquiry["candidates"]] == [child]
        assert enquiry["child"]["id"] == child
        # Every relation's child has an involvement (or is shielded): no warning, no
        # front door (the answer names whom to call instead).
        assert enquiry["advice"] is None
        if relation == "shielded":
            assert set(enquiry["child"]) == SHIELDED
            assert set(enquiry["candidates"][0]) == {"child_id", "shielded"}

    return Call("POST", "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, check=check)


def _open_candidate(world: World, relation: str) -> Call:
    child = world.child(relation)
    enquiry = world.enquiry_that_found(child)
    return Call("GET", f"/v1/enquiries/{enquiry}/children/{child}", child=child)


def _list_contacts(world: World, relation: str) -> Call:
    target = str(world.enquiry_contact(relation))
    return Call("GET", "/v1/enquiry-contacts", listed=target)


def _close_contact(world: World, relation: str) -> Call:
    target = str(world.enquiry_contact(relation))

    def check(closed: Any) -> None:
        assert closed["id"] == target
        assert (closed["closed_by"], closed["closed_reason"]) == (f"{DEV_ISSUER} user-1", "matrix")

    url = f"/v1/enquiry-contacts/{target}/close"
    return Call("POST", url, json={"reason": "matrix"}, check=check)


def _record_involvement(world: World, relation: str) -> Call:
    child = world.child(relation)

    def check(recorded: Any) -> None:
        assert recorded["child_id"] == str(child)
        assert recorded["practitioner_name"] == "Test User"
        assert (recorded["organisation_code"], recorded["end_date"]) == (world.caller.code, None)

    url = f"/v1/children/{child}/involvements"
    return Call("POST", url, json={"service": "Matrix service"}, child=child, check=check)


def _end_involvement(world: World, relation: str) -> Call:
    target = str(world.involvement(relation))

    def check(ended: Any) -> None:
        assert (ended["id"], ended["end_date"]) == (target, utcnow().date().isoformat())

    return Call("POST", f"/v1/involvements/{target}/end", json={}, check=check)


def _raise_flag(world: World, relation: str) -> Call:
    child = world.child(relation)
    body = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}

    def check(raised: Any) -> None:
        assert (raised["kind"], raised["details"]) == (
            "concern_raised",
            {"area_of_concern": "parenting_capacity"},
        )
        assert (raised["organisation_code"], raised["contact_name"]) == (
            world.caller.code,
            "Test User",
        )
        with world.factory.db.session() as session:
            query = text("SELECT child_id, raised_by_subject FROM flag WHERE id = :id")
            stored = session.execute(query, {"id": uuid.UUID(raised["id"])}).one()
        assert tuple(stored) == (child, "user-1")

    return Call("POST", f"/v1/children/{child}/flags", json=body, child=child, check=check)


def _review_flag(world: World, relation: str) -> Call:
    target = str(world.flag(relation))
    review = (utcnow().date() + timedelta(days=30)).isoformat()

    def check(reviewed: Any) -> None:
        assert (reviewed["id"], reviewed["review_date"]) == (target, review)
        assert reviewed["reviewed_at"] is not None

    url = f"/v1/flags/{target}/review"
    return Call("POST", url, json={"review_date": review}, check=check)


def _end_flag(world: World, relation: str) -> Call:
    target = str(world.flag(relation))

    def check(ended: Any) -> None:
        assert ended["id"] == target
        assert ended["ended_at"] is not None

    return Call("POST", f"/v1/flags/{target}/end", check=check)


def _overdue_flags(world: World, relation: str) -> Call:
    target = str(world.flag(relation, overdue=True))
    return Call("GET", "/v1/flags/overdue", listed=target)


def _submit_feed(world: World, relation: str) -> Call:
    """A feed of one row for a child of the relation's authority, its date of birth
    malformed: the route's answer is the report (one audit row: nothing was applied)."""
    authority = HARINGEY if relation == "other_la" else EALING
    header = "source_record_id,given_names,family_name,date_of_birth,responsible_authority"
    body = f"{header}\nM-1,Aisha,Testchild,not-a-date,{authority}\n".encode()

    def check(report: Any) -> None:
        assert report["counts"]["rejected"] == 1
        assert report["rows"][0]["problems"][0]["field"] == "date_of_birth"

    return Call("POST", "/v1/feeds", content=body, check=check)


def _list_reviews(world: World, relation: str) -> Call:
    target = str(world.feed_review(relation))
    return Call("GET", "/v1/feeds/reviews", listed=target)


def _resolve_review(world: World, relation: str) -> Call:
    target = str(world.feed_review(relation))

    def check(resolved: Any) -> None:
        assert (resolved["id"], resolved["status"]) == (target, "ignored")

    url = f"/v1/feeds/reviews/{target}/resolve"
    return Call("POST", url, json={"decision": "ignored"}, check=check)


def _data_quality_gaps(world: World, relation: str) -> Call:
    target = str(world.child_with_a_gap(relation))
    return Call(
        "GET",
        "/v1/data-quality/gaps?limit=200",
        listed=target,
        listing=lambda body: {item["child_id"] for item in body["items"]},
    )


def _list_alerts(world: World, relation: str) -> Call:
    target = str(world.alert(relation))
    return Call("GET", "/v1/alerts", listed=target)


def _read_alert(world: World, relation: str) -> Call:
    target = str(world.alert(relation))
    return Call("GET", f"/v1/alerts/{target}", check=partial(_is, target))


def _acknowledge_alert(world: World, relation: str) -> Call:
    target = str(world.alert(relation))

    def check(acknowledged: Any) -> None:
        assert acknowledged["id"] == target
        assert acknowledged["acknowledged_by"] == f"{DEV_ISSUER} user-1"
        assert acknowledged["acknowledged_at"] is not None
        assert acknowledged["acknowledged_note"] == "matrix note"

    url = f"/v1/alerts/{target}/acknowledge"
    return Call("POST", url, json={"note": "matrix note"}, check=check)


def _register_webhook(world: World, relation: str) -> Call:
    body = world.webhook_body(relation)

    def check(created: Any) -> None:
        assert {k: created[k] for k in body} == body
        assert (created["active"], created["created_by"]) == (True, f"{DEV_ISSUER} user-1")
        assert created["secret"].startswith("whsec_")

    return Call("POST", "/v1/webhook-endpoints", json=body, check=check)


def _list_webhooks(world: World, relation: str) -> Call:
    target = str(world.webhook_endpoint(relation))
    return Call("GET", "/v1/webhook-endpoints", listed=target)


def _withdraw_webhook(world: World, relation: str) -> Call:
    target = str(world.webhook_endpoint(relation))

    def check(withdrawn: Any) -> None:
        assert (withdrawn["id"], withdrawn["active"]) == (target, False)
        assert "secret" not in withdrawn

    return Call("DELETE", f"/v1/webhook-endpoints/{target}", check=check)


def _csv_ids(exported: str) -> set[str]:
    return {row["id"] for row in csv.DictReader(io.StringIO(exported))}


def _fhir_ids(bundle: Any) -> set[str]:
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    return {entry["resource"]["id"] for entry in bundle["entry"]}


def _search_events(world: World, relation: str) -> Call:
    event, _ = world.audit_event(relation)
    return Call("GET", "/v1/audit/events", listed=str(event))


def _export_csv(world: World, relation: str) -> Call:
    event, _ = world.audit_event(relation)

    def check(exported: str) -> None:
        assert exported.splitlines()[0] == ",".join(CSV_COLUMNS)

    url = "/v1/audit/events/export.csv"
    media_type = "text/csv; charset=utf-8"
    return Call("GET", url, listed=str(event), listing=_csv_ids, media_type=media_type, check=check)


def _export_fhir(world: World, relation: str) -> Call:
    event, _ = world.audit_event(relation)
    url, media_type = "/v1/audit/events/export.fhir", "application/fhir+json"
    return Call("GET", url, listed=str(event), listing=_fhir_ids, media_type=media_type)


def _child_accesses(world: World, relation: str) -> Call:
    event, child = world.audit_event(relation)

    def accessed(report: Any) -> set[str]:
        assert report["child_id"] == str(child)
        return {access["event_id"] for access in report["accesses"]}

    url = f"/v1/audit/children/{child}/accesses"
    return Call("GET", url, child=child, listed=str(event), listing=accessed)


def _practitioner_activity(world: World, relation: str) -> Call:
    event, _ = world.audit_event(relation)
    practitioner = {"issuer": DEV_ISSUER, "subject": world.raiser(relation)}

    def activity_of(activity: Any) -> set[str]:
        assert {k: activity["practitioner"][k] for k in practitioner} == practitioner
        return _item_ids(activity["events"])

    url = f"/v1/audit/practitioners/activity?{urlencode(practitioner)}"
    return Call("GET", url, listed=str(event), listing=activity_of)


def _misuse_report(world: World, relation: str) -> Call:
    event, _ = world.audit_event(relation)

    def cases_of(report: Any) -> set[str]:
        assert report["report"] == "out-of-hours"
        return {case["event_id"] for case in report["cases"]}

    return Call("GET", "/v1/audit/reports/out-of-hours", listed=str(event), listing=cases_of)


def _verify_chain(world: World, relation: str) -> Call:
    def check(verification: Any) -> None:
        assert (verification["ok"], verification["first_bad"]) == (True, None)

    return Call("GET", "/v1/audit/verify", check=check)


BUILDERS: dict[tuple[str, str], Callable[[World, str], Call]] = {
    ("POST", "/v1/organisations"): _new_organisation,
    ("GET", "/v1/organisations"): _list_organisations,
    ("GET", "/v1/organisations/{organisation_id}"): _read_organisation,
    ("PUT", "/v1/organisations/{organisation_id}/deactivation"): _deactivate,
    ("DELETE", "/v1/organisations/{organisation_id}/deactivation"): _reactivate,
    ("POST", "/v1/suspensions"): _suspend,
    ("GET", "/v1/suspensions"): _list_suspensions,
    ("DELETE", "/v1/suspensions/{suspension_id}"): _lift,
    ("POST", "/v1/trusted-issuers"): _register_issuer,
    ("GET", "/v1/trusted-issuers"): _list_issuers,
    ("DELETE", "/v1/trusted-issuers/{issuer_id}"): _withdraw_issuer,
    ("POST", "/v1/children"): _create_child,
    ("GET", "/v1/children/{child_id}"): _read_child,
    ("PATCH", "/v1/children/{child_id}"): _update_child,
    ("PUT", "/v1/children/{child_id}/shield"): _shield,
    ("DELETE", "/v1/children/{child_id}/shield"): _unshield,
    ("POST", "/v1/children/{child_id}/merges"): _merge,
    ("POST", "/v1/children/{child_id}/merges/{merge_id}/undo"): _unmerge,
    ("GET", "/v1/children/{child_id}/legal-hold"): _read_hold,
    ("PUT", "/v1/children/{child_id}/legal-hold"): _hold,
    ("DELETE", "/v1/children/{child_id}/legal-hold"): _lift_hold,
    ("GET", "/v1/children/{child_id}/subject-access"): _subject_access,
    ("POST", "/v1/enquiries"): _enquire,
    ("GET", "/v1/enquiries/{enquiry_id}/children/{child_id}"): _open_candidate,
    ("GET", "/v1/enquiry-contacts"): _list_contacts,
    ("POST", "/v1/enquiry-contacts/{contact_id}/close"): _close_contact,
    ("POST", "/v1/children/{child_id}/involvements"): _record_involvement,
    ("POST", "/v1/involvements/{involvement_id}/end"): _end_involvement,
    ("POST", "/v1/children/{child_id}/flags"): _raise_flag,
    ("POST", "/v1/flags/{flag_id}/review"): _review_flag,
    ("POST", "/v1/flags/{flag_id}/end"): _end_flag,
    ("GET", "/v1/flags/overdue"): _overdue_flags,
    ("POST", "/v1/feeds"): _submit_feed,
    ("GET", "/v1/feeds/reviews"): _list_reviews,
    ("POST", "/v1/feeds/reviews/{review_id}/resolve"): _resolve_review,
    ("GET", "/v1/data-quality/gaps"): _data_quality_gaps,
    ("GET", "/v1/alerts"): _list_alerts,
    ("GET", "/v1/alerts/{alert_id}"): _read_alert,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): _acknowledge_alert,
    ("POST", "/v1/webhook-endpoints"): _register_webhook,
    ("GET", "/v1/webhook-endpoints"): _list_webhooks,
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): _withdraw_webhook,
    ("GET", "/v1/audit/events"): _search_events,
    ("GET", "/v1/audit/events/export.csv"): _export_csv,
    ("GET", "/v1/audit/events/export.fhir"): _export_fhir,
    ("GET", "/v1/audit/children/{child_id}/accesses"): _child_accesses,
    ("GET", "/v1/audit/practitioners/activity"): _practitioner_activity,
    ("GET", "/v1/audit/reports/{report}"): _misuse_report,
    ("GET", "/v1/audit/verify"): _verify_chain,
}


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------

# What a refusal must leave as it was (rate windows are counted before the refusal, by
# design, and the audit trail gains the refusal's row).
STATE_TABLES = (
    "organisation",
    "child",
    "child_merge",
    "child_name",
    "child_address",
    "carer",
    "involvement",
    "enquiry",
    "suspension",
    "trusted_issuer",
    "shielded_access",
    "flag",
    "alert",
    "alert_delivery",
    "enquiry_contact",
    "webhook_endpoint",
    "feed",
    "feed_review",
)
STATE_QUERIES = {
    table: f"SELECT count(*) FROM {table}"  # noqa: S608 (table names from this list)
    for table in STATE_TABLES
}
STATE_QUERIES["child rows"] = (
    "SELECT id, version, status, shielded, la_reference, legal_hold_reason FROM child ORDER BY id"
)
STATE_QUERIES["merge rows"] = "SELECT id, unmerged_at FROM child_merge ORDER BY id"
STATE_QUERIES["suspension rows"] = "SELECT id, lifted_at FROM suspension ORDER BY id"
STATE_QUERIES["issuer rows"] = "SELECT id, withdrawn_at FROM trusted_issuer ORDER BY id"
STATE_QUERIES["involvement rows"] = "SELECT id, end_date FROM involvement ORDER BY id"
STATE_QUERIES["flag rows"] = "SELECT id, review_date, reviewed_at, ended_at FROM flag ORDER BY id"
STATE_QUERIES["alert rows"] = "SELECT id, acknowledged_at, acknowledged_note FROM alert ORDER BY id"
STATE_QUERIES["contact rows"] = "SELECT id, closed_at FROM enquiry_contact ORDER BY id"
STATE_QUERIES["review rows"] = "SELECT id, status FROM feed_review ORDER BY id"
STATE_QUERIES["webhook rows"] = "SELECT id, active FROM webhook_endpoint ORDER BY id"


def state(factory: Factory) -> dict[str, Any]:
    with factory.db.session() as session:
        return {name: session.execute(text(q)).all() for name, q in STATE_QUERIES.items()}


def api_routes() -> list[APIRoute]:
    routes = [route for router in V1_ROUTERS for route in router.routes]
    assert all(isinstance(route, APIRoute) for route in routes)
    return [route for route in routes if isinstance(route, APIRoute)]


def v1_routes() -> set[tuple[str, str]]:
    return {(method, route.path) for route in api_routes() for method in route.methods or ()}


def route_of(method: str, path: str) -> APIRoute:
    for route in api_routes():
        if route.path == path and method in (route.methods or ()):
            return route
    raise AssertionError(f"no route {method} {path}")


def assert_refused(response: httpx2.Response, row: dict[str, Any], expect: Expect) -> None:
    assert response.status_code == expect.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (expect.status, expect.code)
    assert problem["type"].endswith(f"/{expect.code}")
    assert problem["title"]
    assert (row["outcome"], row["status_code"], row["reason"]) == (
        "refused",
        expect.status,
        expect.code,
    )


def assert_succeeded(
    response: httpx2.Response, row: dict[str, Any], case: Case, call: Call
) -> None:
    success = route_of(case.method, case.path).status_code or 200
    assert response.status_code == success, response.text
    assert response.headers["content-type"] == call.media_type
    assert (row["outcome"], row["status_code"]) == ("success", success)
    is_json = call.media_type.split(";")[0].endswith("json")
    body: Any = response.json() if is_json else response.text
    if case.expect.fields is not None:
        assert set(body) == case.expect.fields, (
            f"missing {sorted(case.expect.fields - set(body))}, "
            f"unexpected {sorted(set(body) - case.expect.fields)}"
        )
    if call.child is not None and case.expect.fields is not None:
        assert body["id"] == str(call.child)
    if call.listed is not None:
        listed = call.listed in call.listing(body)
        assert listed is not case.expect.unlisted, "listed" if listed else "not listed"
    else:
        assert not case.expect.unlisted, "`unlisted` for a route that lists nothing"
    if call.check is not None:
        call.check(body)


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def test_the_matrix_has_a_row_for_every_v1_route_and_every_persona() -> None:
    assert set(ROWS) == v1_routes(), "a /v1 route without matrix rows, or a row without a route"
    assert set(BUILDERS) == v1_routes()
    for route, personas in ROWS.items():
        assert sorted(personas) == sorted(PERSONAS), route
    assert {role for p in PERSONAS.values() for role in p.roles} == {r.value for r in Role}


def test_the_matrix_refuses_every_route_to_someone_and_grants_it_to_someone() -> None:
    for route in ROWS:
        expectations = [c.expect for c in CASES if (c.method, c.path) == route]
        assert any(e.refused for e in expectations), route
        assert any(not e.refused for e in expectations), route


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_the_matrix(client: TestClient, factory: Factory, case: Case) -> None:
    world = World.build(client, factory, PERSONAS[case.persona])
    call = BUILDERS[(case.method, case.path)](world, case.relation)
    before = state(factory)
    set_up = {r["id"] for r in factory.audit_rows()}  # the audit routes' targets
    response = world.send(call)
    rows = [r for r in factory.audit_rows() if r["id"] not in set_up]
    assert len(rows) == 1, [(r["action"], r["outcome"]) for r in rows]
    (row,) = rows
    assert (row["method"], row["route"], row["subject"]) == (case.method, case.path, "user-1")
    assert row["organisation"] == world.caller.code
    if call.child is not None:
        assert row["child_ids"] == [call.child]
    if case.expect.refused:
        assert_refused(response, row, case.expect)
        assert state(factory) == before, "a refusal changed something"
    else:
        assert_succeeded(response, row, case, call)


CHILD_DATA = ("Testchild", "Aisha", VALID_NHS_NUMBER, VALID_UPN, "Synthetic Row", "W5 2AA")


def _touches_child_data(method: str, path: str) -> bool:
    declared = (route_of(method, path).openapi_extra or {})[PERMISSION_KEY]
    return Permission(declared).touches_child_data


def _expected(method: str, path: str, persona: str, relation: str) -> Expect:
    (case,) = [
        c
        for c in CASES
        if (c.method, c.path, c.persona, c.relation) == (method, path, persona, relation)
    ]
    return case.expect


@pytest.mark.parametrize(
    ("method", "path"), sorted(BUILDERS), ids=[f"{m} {p}" for m, p in sorted(BUILDERS)]
)
def test_an_administrator_reads_no_child_data_through_any_route(
    client: TestClient, factory: Factory, method: str, path: str
) -> None:
    world = World.build(client, factory, PERSONAS["administrator"])
    present = world.child("own")  # a child on the index, whatever the route is about
    response = world.send(BUILDERS[(method, path)](world, "own"))
    expect = _expected(method, path, "administrator", "own")
    if _touches_child_data(method, path):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "permission_denied"
    elif expect.refused:  # a route for others, that touches no child data either
        assert (response.status_code, response.json()["code"]) == (expect.status, expect.code)
    else:
        assert response.status_code < 300, response.text
    for secret in (*CHILD_DATA, str(present)):
        assert secret.lower() not in response.text.lower()
    assert factory.count("shielded_access") == 0


@pytest.mark.parametrize(
    ("persona", "reads"),
    [("designated_manager", True), ("data_manager", False), ("practitioner", False)],
)
def test_a_team_alert_is_read_by_the_team_of_its_authority_alone(
    client: TestClient, factory: Factory, persona: str, reads: bool
) -> None:
    """Beside the matrix: an alert to Ealing's designated managers reaches whoever holds
    that role in Ealing, and no other role there."""
    world = World.build(client, factory, PERSONAS[persona])
    target = str(
        world.add_alert(recipient_team=Team.DESIGNATED_MANAGERS.value, recipient_authority=EALING)
    )
    listed = world.send(Call("GET", "/v1/alerts"))
    assert listed.status_code == 200, listed.text
    assert (target in {item["id"] for item in listed.json()["items"]}) is reads
    read = world.send(Call("GET", f"/v1/alerts/{target}"))
    acknowledged = world.send(Call("POST", f"/v1/alerts/{target}/acknowledge"))
    if reads:
        assert read.status_code == 200, read.text
        assert (read.json()["team"], read.json()["authority"]) == ("designated_managers", EALING)
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["acknowledged_by"] == f"{DEV_ISSUER} user-1"
    else:
        for response in (read, acknowledged):
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "not_found"
        with factory.db.session() as session:
            query = text("SELECT acknowledged_at FROM alert WHERE id = :id")
            assert session.execute(query, {"id": uuid.UUID(target)}).scalar_one() is None


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_naming_a_practitioner_without_a_login_is_for_social_workers_alone(
    client: TestClient, factory: Factory, persona: str
) -> None:
    """Beside the matrix: the involvement route's `practitioner_name` (someone else, with
    no login) and `is_allocated_worker`, for every persona, on a child of their own."""
    world = World.build(client, factory, PERSONAS[persona])
    child = world.child("own")
    before = state(factory)
    body = {
        "service": "Children in need team",
        "practitioner_name": "Alex Allocated",
        "practitioner_email": "alex.allocated@ealing.example",
        "is_allocated_worker": True,
    }
    response = world.send(Call("POST", f"/v1/children/{child}/involvements", json=body))
    if persona == "social_worker":
        assert response.status_code == 201, response.text
        assert (response.json()["practitioner_name"], response.json()["is_allocated_worker"]) == (
            "Alex Allocated",
            True,
        )
        with factory.db.session() as session:
            query = text(
                "SELECT practitioner_issuer, practitioner_subject FROM involvement WHERE id = :id"
            )
            row = session.execute(query, {"id": uuid.UUID(response.json()["id"])}).one()
        assert tuple(row) == (None, None)
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] in {"permission_denied", "may_not_name_practitioner"}
        assert state(factory) == before


@pytest.mark.parametrize(
    ("persona", "reads"),
    [
        ("designated_manager", True),
        ("data_manager", False),
        ("social_worker", False),
        ("practitioner", False),
    ],
)
def test_an_alert_to_a_practitioner_without_a_login_is_read_by_their_designated_managers(
    client: TestClient, factory: Factory, persona: str, reads: bool
) -> None:
    """Beside the matrix: an alert to someone children's social care named without a
    login (email only) is read and acknowledged by the designated managers of the
    authority, and by nobody else there."""
    world = World.build(client, factory, PERSONAS[persona])
    target = str(
        world.add_alert(
            recipient_name="Alex Allocated",
            recipient_email="alex.allocated@ealing.example",
            recipient_authority=EALING,
        )
    )
    listed = world.send(Call("GET", "/v1/alerts"))
    assert (target in {item["id"] for item in listed.json()["items"]}) is reads
    acknowledged = world.send(
        Call("POST", f"/v1/alerts/{target}/acknowledge", json={"note": "rang Alex"})
    )
    if reads:
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["acknowledged_note"] == "rang Alex"
    else:
        assert acknowledged.status_code == 404, acknowledged.text
