"""The match model for enquiry-only contacts (R3): the current match model, fitted to the
population the contacts hold.

The index's model weighs a pair against a prior of one child in 11,000,000: every child
in England may be on the index. Enquiry-only contacts hold only the children enquired
about in the last year without a record being found, of the order of 100,000, so the
prior that a new not-found enquiry and one contact are the same child is log2(1/100,000)
(-16.6), not -23.4. And a child nobody knows moving between two enquiries, or being given
at another address (a hospital's, a relative's, a refuge's), is ordinary: the postcode's
`different` level has m 0.5 (weight about -1, against -3.8 in the index's model), the
other postcode levels' m scaled into the remaining half. Every other level, and the
thresholds, are the base model's.

The spec is `matching/models/contacts/<version>.json`: the base model's version, the
prior, and the comparisons it replaces, with the reasons. Its version is recorded on every
contact it compared (`enquiry_contact.model_version`); changing a number means a new file.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from typing import Any

from index_service.matching.model import (
    IDENTIFIERS,
    MODELS,
    Comparison,
    Explanation,
    Level,
    MatchModel,
    load_model,
)

CONTACT_MODELS = MODELS / "contacts"
CURRENT_CONTACT_VERSION = "contacts-2026-12-v1"


def derive(base: MatchModel, spec: dict[str, Any]) -> MatchModel:
    """The base model with the spec's version, prior and replaced comparisons."""
    replaced = {
        c["field"]: Comparison(c["field"], tuple(Level(**level) for level in c["levels"]))
        for c in spec["comparisons"]
    }
    unknown = set(replaced) - {c.field for c in base.comparisons}
    if unknown:
        raise KeyError(f"{spec['version']}: no comparison {sorted(unknown)} in {base.version}")
    return replace(
        base,
        version=spec["version"],
        prior=float(spec["prior"]),
        comparisons=tuple(replaced.get(c.field, c) for c in base.comparisons),
        estimation={"base": base.version, **spec.get("estimation", {})},
    )


@lru_cache(maxsize=4)
def load_contact_model(version: str = CURRENT_CONTACT_VERSION) -> MatchModel:
    spec = json.loads((CONTACT_MODELS / f"{version}.json").read_text())
    return derive(load_model(spec["base"]), spec)


def may_link(explanation: Explanation) -> bool:
    """Whether a not-found enquiry and a contact at or above the threshold are linked
    (R3). The contact model's low prior lets a shared given name, an exact date of birth
    and another family name reach the threshold, which a family name changed (a
    stepfather's, a mother's) should; but two different given names ("Oliver Smith",
    "Jack Smith", born the same day) are two children, not one, unless an identifier
    agrees. A given name nobody gave (an enquiry by family name, date and postcode) does
    not count against it; aliases are compared pair by pair before this is asked."""
    if any(explanation.levels.get(f) == "agree" for f in IDENTIFIERS):
        return True
    return explanation.levels.get("given_name") != "different"


def is_repeat(explanation: Explanation) -> bool:
    """Whether an enquirer's new enquiry, scored against their own open contact, is a
    repeat about the same child (and updates that contact) rather than an enquiry about
    another: neither the given nor the family name disagrees. Twins (the same family name,
    date of birth and address, other given names) score far above the threshold against
    each other, and stay two contacts."""
    return "different" not in (
        explanation.levels["given_name"],
        explanation.levels["family_name"],
    )
