"""Agency feeds: files of children an agency system sends (CSV or a FHIR R4 Bundle),
matched against the index in batches, applied with provenance, and the doubtful rows
queued for the responsible authority's data managers."""
