"""Figures a commissioner asks for, from metadata the server already holds (never content)."""
