"""Reading feed files into records, without a database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from index_service.children.models import NhsNumberStatus
from index_service.feeds.records import FeedUnreadable, nhs_number_status_of, read_csv
from tests.feeds.conftest import STANDARD_ROW, csv_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "feed.csv"


def test_the_documented_example_feed_reads_without_problems() -> None:
    with EXAMPLE.open("rb") as stream:
        rows = list(read_csv(stream))
    assert [r.problems for r in rows] == [[], []]
    first = rows[0].record
    assert first is not None
    assert [(n.kind.value, n.given_names) for n in first.names] == [
        ("legal", "Aisha"),
        ("alias", "Ash"),
    ]
    assert rows[0].supplied >= {"carers", "gp_practice", "education", "addresses", "nhs_number"}
    assert "gp_practice" not in rows[1].supplied  # blank: not said, not "none"


def test_a_row_hashes_the_same_when_sent_again_and_differently_when_changed() -> None:
    (one,) = read_csv(io.BytesIO(csv_of([STANDARD_ROW])))
    (same,) = read_csv(io.BytesIO(csv_of([STANDARD_ROW])))
    (changed,) = read_csv(io.BytesIO(csv_of([{**STANDARD_ROW, "gp_ods_code": "B82005"}])))
    assert one.content_hash == same.content_hash != changed.content_hash


def test_the_nhs_number_status_a_row_gives() -> None:
    traced = {**STANDARD_ROW, "nhs_number_verified": "true"}
    untraced, verified, none = (
        next(read_csv(io.BytesIO(csv_of([row]))))
        for row in (STANDARD_ROW, traced, {**STANDARD_ROW, "nhs_number": ""})
    )
    assert nhs_number_status_of(untraced) is NhsNumberStatus.UNVERIFIED
    # An agency's trace is a trusted feed's word; a data manager's feed, their own trace.
    assert nhs_number_status_of(verified) is NhsNumberStatus.TRUSTED_FEED
    traced_by_them = nhs_number_status_of(verified, traced=NhsNumberStatus.VERIFIED_TRACE)
    assert traced_by_them is NhsNumberStatus.VERIFIED_TRACE
    assert nhs_number_status_of(none) is None


def test_a_file_without_the_required_columns_is_unreadable() -> None:
    with pytest.raises(FeedUnreadable, match="date_of_birth"):
        list(read_csv(io.BytesIO(b"source_record_id,given_names,family_name\n1,A,B\n")))
