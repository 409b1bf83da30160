"""Sensitive services (sexual health, mental health, substance misuse): what others learn
of them. One home for the decision, used by a child's entry (`children/public.py`) and by
alerts (`alerts/service.py`) alike, so that an alert never names what the entry hides.

- An involvement is sensitive when it is marked so, or when its organisation is a
  sensitive service by type (a clinic that forgets to mark it is not disclosed by that).
  To anyone outside that organisation it shows only as "a sensitive service is involved:
  contact the data manager", with the data manager's contact (the children's social care
  of the child's responsible authority).
- A flag raised by a sensitive service shows the same way (its kind and dates, the
  notice and the data manager's contact), and an alert about it being raised or ended
  (R4), like one about a sensitive involvement, says the same and carries the same
  contact instead of the organisation and practitioner.
- An enquiry by a sensitive service (R1, and every other rule an enquirer or actor
  appears in): the enquirer stays reachable to the key worker, by name and their own
  email, but their organisation is not named ("a health service") and its switchboard is
  not given: the key worker can call them back without learning which service saw the
  child. The same holds for an enquirer whose organisation has a sensitive involvement
  with the child.
- The data managers' own team inbox (R7) is told in full: they are the contact point
  others are sent to, and keep the record.
- R4 reaches every current worker, a sensitive service's too: wherever alerts are listed
  with their recipients for someone else (a subject access report), such a recipient is
  not named, as their involvement is not (`names_alert_recipient`).
"""

from __future__ import annotations

from enum import StrEnum

from index_service.organisations.models import OrganisationType

SENSITIVE_SERVICE_TYPES = frozenset(
    {
        OrganisationType.SEXUAL_HEALTH,
        OrganisationType.SUBSTANCE_MISUSE,
        OrganisationType.CAMHS,
    }
)
SENSITIVE_NOTICE = "A sensitive service is involved: contact the data manager."
# What an enquirer from a sensitive service is called in place of their organisation.
WITHHELD_ORGANISATION = "a health service (name withheld)"
# What an alert's recipient from a sensitive service is called in place of their name.
WITHHELD_PRACTITIONER = "a practitioner of a health service (name withheld)"


def is_sensitive_service(organisation_type: str) -> bool:
    return organisation_type in SENSITIVE_SERVICE_TYPES


def involvement_is_sensitive(*, marked: bool, organisation_type: str) -> bool:
    return marked or is_sensitive_service(organisation_type)


def sees_involvement_in_full(
    *, marked: bool, organisation_type: str, owner_is_viewer: bool
) -> bool:
    """Only the organisation that holds a sensitive involvement sees it in full."""
    return owner_is_viewer or not involvement_is_sensitive(
        marked=marked, organisation_type=organisation_type
    )


def names_alert_recipient(
    *, organisation_type: str, sensitive_with_child: bool, owner_is_viewer: bool
) -> bool:
    """Whether an alert's recipient practitioner is named to the viewer: only where their
    involvement with the child would be shown in full (`sensitive_with_child`: their
    organisation holds a sensitive involvement with the child, ended or not), so that a
    list of alerts does not name whom the involvements hide."""
    return sees_involvement_in_full(
        marked=sensitive_with_child,
        organisation_type=organisation_type,
        owner_is_viewer=owner_is_viewer,
    )


def names_enquirers_organisation(organisation_type: str) -> bool:
    """Whether an enquirer's organisation is named wherever the enquirer is shown to
    someone else: to the next enquirer told of an earlier enquiry (R3), to designated
    managers listing enquiry-only contacts, in alerts (`actor_shown`). An enquirer from a
    sensitive service stays reachable by name and their own email; their organisation,
    its switchboard and their own words of purpose are not given."""
    return not is_sensitive_service(organisation_type)


def sees_flag_raiser_in_full(*, organisation_type: str, owner_is_viewer: bool) -> bool:
    """A flag raised by a sensitive service (any agency may raise a concern or early
    help) names its organisation, raiser and details only to that organisation. Others
    see the flag's kind and dates with the notice and the data manager's contact: the
    flag still says "talk to someone", and the data manager knows whom."""
    return owner_is_viewer or not is_sensitive_service(organisation_type)


class ActorShown(StrEnum):
    """How an alert shows who acted."""

    FULL = "full"  # name, organisation, its phone, email
    PERSON_ONLY = "person_only"  # name and own email; organisation withheld
    DATA_MANAGER = "data_manager"  # nobody: the data manager's contact instead


def actor_shown(
    *,
    about_sensitive_involvement: bool,
    actor_organisation_type: str,
    actor_sensitive_with_child: bool,
    to_data_managers: bool,
) -> ActorShown:
    """`about_sensitive_involvement`: the alert is about a sensitive involvement being
    recorded or ended. `actor_sensitive_with_child`: the actor's organisation holds a
    sensitive involvement with the child. `to_data_managers`: the recipient is the data
    managers' team inbox, who are told in full."""
    if to_data_managers:
        return ActorShown.FULL
    if about_sensitive_involvement:
        return ActorShown.DATA_MANAGER
    if not names_enquirers_organisation(actor_organisation_type) or actor_sensitive_with_child:
        return ActorShown.PERSON_ONLY
    return ActorShown.FULL
