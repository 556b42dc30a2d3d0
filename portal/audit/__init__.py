"""The append-only, hash-chained audit log (ids and actions, never content)."""
