"""The test harness: a throwaway PostgreSQL server, per-test databases, a live portal server and
a guarded headless Chromium. The fixtures that use these live in ``tests/conftest.py``."""
