"""The audit trail: one row for every request that reads or changes child data, and for
every refused request, written in the same transaction as the work it records."""
