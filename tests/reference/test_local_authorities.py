"""The shipped ONS list of English local authorities."""

from __future__ import annotations

from collections import Counter

from index_service.reference.local_authorities import (
    authority_name,
    is_english_authority,
    local_authorities,
)


def test_the_list_holds_every_current_english_authority_and_nothing_else() -> None:
    codes = local_authorities()
    # 296 districts, unitaries and boroughs and 21 counties (ONS, December 2024).
    assert Counter(code[:3] for code in codes) == {
        "E06": 63,
        "E07": 164,
        "E08": 36,
        "E09": 33,
        "E10": 21,
    }
    assert authority_name("E09000009") == "Ealing"
    assert authority_name("E06000066") == "Somerset"  # made in April 2023
    assert authority_name("E10000014") == "Hampshire"


def test_unknown_abolished_and_other_nations_codes_are_not_on_the_list() -> None:
    for code in ("E09000099", "E10000006", "E07000026", "W06000015", "S12000036", "E47000001"):
        assert not is_english_authority(code), code
    assert authority_name("E09000099") is None
