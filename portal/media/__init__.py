"""Recorded and uploaded media: who may upload a message's chunks and read them, and the
endpoints that stream them (storage itself is ``portal/content``)."""
