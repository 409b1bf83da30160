"""Each alert reason in plain English, for the recipient who reads it (`reason_text` on
an alert) and for the email to a practitioner who cannot sign in. One sentence per reason
code the rules (`alerts/rules.py`) raise; no child's details in any of them."""

from __future__ import annotations

from index_service.access.sensitive import SENSITIVE_NOTICE

REASON_TEXT: dict[str, str] = {
    "enquiry_about_your_child": "Someone from another agency enquired about a child you "
    "are the key worker, lead professional or allocated worker for.",
    "enquiry_at_address_of_child_on_plan": "Someone enquired about a child living at the "
    "address of a child on a child protection plan.",
    "second_enquiry_about_unknown_child": "A second agency enquired about a child the "
    "index does not hold.",
    "someone_else_enquired_about_your_unknown_child": "Another agency enquired about a "
    "child you enquired about, whom the index does not hold.",
    "flag_raised": "A flag was raised on a child you are working with.",
    "flag_ended": "A flag was ended on a child you are working with.",
    "involvement_started": "Someone started working with a child you are working with.",
    "involvement_ended": "Someone stopped working with a child you are working with.",
    "child_moved_authority": "A child moved to another local authority.",
    "alert_not_acknowledged": "An alert was not acknowledged in time and has come to you.",
    "shielded_record_reached": "Someone reached a shielded record your authority is "
    "responsible for.",
    "flag_past_review_date": "A flag passed its review date without being reviewed.",
    "records_merged": "Two index entries for a child you are working with were found to "
    "be one child and merged: this alert names the entry that answers for the child now.",
    "records_unmerged": "A merge of index entries for a child you are working with was "
    "undone: this alert names an entry that answers for a child now.",
    "record_archived": "The index entry of a child you are working with was archived at "
    "the age limit: it no longer appears in enquiries.",
}
FALLBACK = "Something happened that you are to be told of."


def reason_text(reason: str, *, actor_sensitive: bool = False) -> str:
    """The sentence for a reason; about a sensitive service, with whom to contact."""
    text = REASON_TEXT.get(reason, FALLBACK)
    return f"{text} {SENSITIVE_NOTICE}" if actor_sensitive else text
