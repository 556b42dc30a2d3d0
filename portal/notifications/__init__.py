"""Safe notices by e-mail: a person who asked is told, at a time they chose, that something
waits for them in the portal, and nothing more (issue 13)."""
