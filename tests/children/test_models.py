"""The child's record columns have one home (`children/models.py`): what a feed's update
writes and what a merge's diff compares are the same fields, so one added to the record
is both written and compared."""

from __future__ import annotations

from index_service.children import lifecycle
from index_service.children.models import DIFF_FIELDS, RECORD_COLUMNS, Child
from index_service.feeds import writes


def test_feeds_and_merges_share_the_record_columns() -> None:
    assert lifecycle.DIFF_FIELDS is DIFF_FIELDS
    assert set(RECORD_COLUMNS) <= DIFF_FIELDS
    written = set(writes._UPDATED)
    assert written - set(RECORD_COLUMNS) == {"provenance", "version", "updated_at"}


def test_the_record_columns_are_columns_of_the_child_table() -> None:
    columns = set(Child.__table__.columns.keys())  # type: ignore[attr-defined]
    assert set(RECORD_COLUMNS) <= columns
    assert DIFF_FIELDS - {"names", "addresses", "carers"} <= columns
