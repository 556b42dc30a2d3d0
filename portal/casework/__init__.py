"""A case's own records, for its facilitators only: risk assessments, case notes, agreement
items, and what the case's outcome shows was exchanged."""
