"""Recorded and uploaded media: chunked ciphertext kept in a blob store."""
