"""Browser tests: headless Chromium driving a live portal through page objects (``pages/``)."""
